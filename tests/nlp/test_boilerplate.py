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


@pytest.mark.parametrize(
    "line",
    [
        "The party's newsletter accused Russia of meddling in the vote.",
        "Video footage showed ballot stuffing at two polling stations.",
        "Campaign donations and contributions to our party rose, the treasurer said.",
        "Photographs of the count were shared by observers.",
        "Sources close to the commission said the count was delayed.",
        "Support our candidates on Sunday, the party told voters.",
        "Video by a bystander showed ballot stuffing at the polling station.",
        "Our newsletter readers were targeted by a Russian influence campaign, the party said.",
        "For more information on voters, the commission subpoenaed the registry.",
    ],
)
def test_news_lines_with_boilerplate_words_are_kept(rules: BoilerplateRules, line: str) -> None:
    text = f"Headline\n{line}\nThe results are due on Monday."
    assert _flags(text, rules) == [False, False, False]


@pytest.mark.parametrize(
    "line",
    [
        "For more information on the election, read Toronto municipal election, 2006.",
        "For more information about these designations, please see the press release.",
        "For further information, contact the press office.",
    ],
)
def test_a_pointer_to_more_information_is_furniture(rules: BoilerplateRules, line: str) -> None:
    assert _flags(f"Headline\nThe vote was held.\n{line}", rules) == [False, False, True]


def test_before_you_go_in_a_sentence_opens_no_block(rules: BoilerplateRules) -> None:
    text = (
        "Headline\n"
        "Before you go to the polls, check that your name is on the register.\n"
        "Polling stations open at seven."
    )
    assert _flags(text, rules) == [False, False, False]


@pytest.mark.parametrize(
    "text",
    [
        "Headline\nThe vote was held.\nBefore you go...\nWe need your help.\nThanks.",
        "Headline\nThe vote was held.\nBefore you go, we have a favour to ask.\nThanks.",
        "Headline\nThe vote was held.\nA message from The Daily Planet:\nWe need help.",
        "Headline\nThe vote was held.\nSupport independent journalism\nWe need help.",
    ],
)
def test_appeal_headings_still_open_a_block(rules: BoilerplateRules, text: str) -> None:
    flags = _flags(text, rules)
    assert flags[:2] == [False, False] and all(flags[2:])


@pytest.mark.parametrize(
    "line",
    [
        "Sign up for our daily newsletter",
        "Get our free newsletter in your inbox every morning.",
        "Newsletter: the week in politics",
        "Photo: Reuters",
        "Photo by Jane Doe/AP",
        "Photo",
        "Image credit: Getty Images",
        "Video: protesters outside the commission",
        "Source: election commission",
        "Copyright 2024 The Daily Planet",
        "Our daily newsletter: the week in politics",
    ],
)
def test_boilerplate_shapes_are_still_stripped(rules: BoilerplateRules, line: str) -> None:
    text = f"Headline\nThe vote was held.\n{line}\nThe results are due on Monday."
    assert _flags(text, rules) == [False, False, True, False]
