"""CuePatterns gives exactly what ``re.finditer`` of the case-insensitive
combined patterns gives, on the fast path and off it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.nlp.lexicon import load_lexicon
from monitor.nlp.patterns import CuePatterns
from monitor.nlp.phrases import FOLD_TRAPS
from tests.conftest import REPO_ROOT

SHIPPED = load_lexicon(REPO_ROOT / "config" / "nlp").cues.foreign_interference.weak_patterns


def _reference(patterns: tuple[str, ...], text: str) -> list[tuple[int, int]]:
    combined = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    return [m.span() for m in combined.finditer(text)]


def test_the_shipped_patterns_take_the_fast_path() -> None:
    assert SHIPPED
    assert CuePatterns(SHIPPED)._lowered is not None


@pytest.mark.parametrize(
    "text",
    [
        "Moscow helped the party win the vote.",
        "HELPED THE PARTY WIN",  # case-insensitive
        "He whelped help them win votes.",  # a match inside a word gives way to the real one
        "It paid local bloggers and paid media outlets.",
        "Help them win the war.",  # the lookahead still excludes
        "Targeted voters in İstanbul were paid journalists",  # "İ" changes the length
        "help ſome win",  # a fold trap
        "",
    ],
)
def test_matches_are_those_of_the_regex(text: str) -> None:
    assert CuePatterns(SHIPPED).spans(text) == _reference(SHIPPED, text)
    assert CuePatterns(SHIPPED).spans(text, text.lower()) == _reference(SHIPPED, text)


@pytest.mark.parametrize(
    "patterns",
    [
        (r"help\w* win",),  # no leading \b
        (r"\bHelp win",),  # an uppercase literal
        (r"\b(?:help) win",),  # no letter right after \b
    ],
)
def test_other_patterns_run_as_written(patterns: tuple[str, ...]) -> None:
    cues = CuePatterns(patterns)
    assert cues._lowered is None
    for text in ("whelp win", "HELP WIN", "help win", "x help win"):
        assert cues.spans(text) == _reference(patterns, text)


_PIECES = st.sampled_from(
    [
        "help",
        "helped",
        "w",
        "win",
        "target",
        "voters",
        "paid",
        "media",
        " ",
        "  ",
        ",",
        "-",
        "Help",
        "WIN",
        "x",
        "_",
        "é",
        "K",
        "İ",
        *FOLD_TRAPS,
        "the",
        "war",
        "’",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_text_gives_the_regex_answer(text: str) -> None:
    assert CuePatterns(SHIPPED).spans(text) == _reference(SHIPPED, text)
