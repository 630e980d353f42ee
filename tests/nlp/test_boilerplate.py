from __future__ import annotations

import pytest

from monitor.errors import ConfigError
from monitor.nlp.boilerplate import (
    BoilerplateRules,
    boilerplate_lines,
    boilerplate_spans,
    split_lines,
)
from monitor.nlp.lexicon import Boilerplate, Lexicon


@pytest.fixture(scope="module")
def rules(lexicon: Lexicon) -> BoilerplateRules:
    return BoilerplateRules.compile(lexicon.boilerplate, "boilerplate.yaml")


def _flags(text: str, rules: BoilerplateRules) -> list[bool]:
    return boilerplate_lines(split_lines(text), rules)


def test_donation_block_runs_to_the_end(rules: BoilerplateRules) -> None:
    text = (
        "Headline\n"
        "The vote was held on Sunday.\n"
        "A Message from The Daily Planet:\n"
        "Dear readers,\n"
        "Officials have labelled us a foreign agent and we need your help.\n"
        "Thank you."
    )
    assert _flags(text, rules) == [False, False, True, True, True, True]


def test_single_lines_match_rules_without_opening_a_block(rules: BoilerplateRules) -> None:
    text = "Headline\nRead more: other news\nThe count went on all night.\nSign up for alerts"
    assert _flags(text, rules) == [False, True, False, True]


def test_appeal_needs_appeal_words_and_an_address_to_the_reader(
    rules: BoilerplateRules,
) -> None:
    appeal = "Headline\nYour contribution keeps us going: please donate today.\nMore text follows."
    report = "Headline\nDonations and contributions to the party rose sharply.\nMore text follows."
    assert _flags(appeal, rules)[1] is True
    assert _flags(report, rules)[1] is False


def test_headline_is_never_boilerplate_and_trailing_buttons_are(
    rules: BoilerplateRules,
) -> None:
    text = "Subscribe\nThe polls closed at eight.\nContinue\n×"
    assert _flags(text, rules) == [False, False, True, True]


def test_spans_merge_adjacent_lines_and_skip_indentation(rules: BoilerplateRules) -> None:
    text = "Headline\nBody sentence here.\n  Share this article\n\nAdvertisement\n"
    lines = split_lines(text)
    spans = boilerplate_spans(text, lines, boilerplate_lines(lines, rules))
    assert [text[s:e] for s, e in spans] == ["Share this article\n\nAdvertisement"]


def test_bad_regex_names_the_rule() -> None:
    with pytest.raises(ConfigError) as caught:
        BoilerplateRules.compile(Boilerplate(lines=("ok", "(unclosed")), "boilerplate.yaml")
    assert caught.value.problems[0].key == "lines.1"
