from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.nlp.boilerplate import split_lines
from monitor.nlp.segment import (
    _BOUNDARY,
    _OPENING_MARKS,
    _QUOTES,
    _ends_abbreviation,
    _is_abbreviation,
    _trim,
    quote_spans,
    quote_text,
    sentence_spans,
    statement_spans,
)


def _statements(text: str, skip: list[bool] | None = None) -> list[str]:
    lines = split_lines(text)
    spans = statement_spans(text, lines, skip or [False] * len(lines))
    return [text[s:e] for s, e in spans]


def test_headline_is_one_statement_and_body_splits_into_sentences() -> None:
    text = "Vote Set For May. Parties Agree\nThe vote is on May 4. Mr. Smith said so."
    assert _statements(text) == [
        "Vote Set For May. Parties Agree",
        "The vote is on May 4.",
        "Mr. Smith said so.",
    ]


def test_text_without_line_break_has_no_headline() -> None:
    assert _statements("One sentence. Two sentences.") == ["One sentence.", "Two sentences."]


def test_initials_and_abbreviations_do_not_end_sentences() -> None:
    text = "J. D. Vance spoke in Washington, D.C. on Monday. He left for the U.S. Capitol."
    spans = sentence_spans(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == [
        "J. D. Vance spoke in Washington, D.C. on Monday.",
        "He left for the U.S. Capitol.",
    ]


def test_multi_sentence_quote_stays_with_its_attribution() -> None:
    text = "“We lost. We accept it,” the leader said. Then she left."
    spans = sentence_spans(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == [
        "“We lost. We accept it,” the leader said.",
        "Then she left.",
    ]


def test_straight_quotes_also_link_sentences() -> None:
    text = '"It is over. Go home," he said. Nobody moved.'
    assert len(sentence_spans(text, 0, len(text))) == 2


def test_skipped_lines_produce_no_statements() -> None:
    text = "Headline\nBody one.\nDonate now."
    assert _statements(text, [False, False, True]) == ["Headline", "Body one."]


def test_quote_spans_cover_curly_straight_and_single_quotes() -> None:
    sentence = "Kremlin Says Opposition Should ‘Accept Defeat’"
    assert [sentence[s:e] for s, e in quote_spans(sentence)] == ["Accept Defeat"]
    sentence = "He called it 'a farce' and \"a sham\"."
    assert [sentence[s:e] for s, e in quote_spans(sentence)] == ["a farce", "a sham"]


def test_apostrophes_are_not_quotes() -> None:
    sentence = "Venezuela’s opposition and Russia’s leaders met at O’Hare."
    assert quote_spans(sentence) == []


def test_quote_text_joins_fragments_and_drops_trailing_comma() -> None:
    sentence = "“We will win,” she said, calling it “a new start”."
    assert quote_text(sentence, quote_spans(sentence)) == "We will win … a new start"
    assert quote_text("No quotes here.", []) is None


def test_quote_running_into_the_next_paragraph_stays_one_statement() -> None:
    text = "“We will not give up. The vote was stolen. We fight on"
    assert sentence_spans(text, 0, len(text)) == [(0, len(text))]
    assert quote_text(text, quote_spans(text)) == text[1:]


# The sentence splitter's shortcuts, checked against the plain way (the code
# they replaced). Texts are pieces (abbreviations, initials, long words,
# quotes, the marks the rules look at), each followed by a gap (whitespace of
# several kinds, a BOM, or nothing).
_WORDS = "Mr. mr J. j U.S. day. yesterday. approx. Approx (Gen. ((((((Gen. İ. Ab1. x-y. He The"
_MARKS = ". .. ! ? … .” .) ' \" “ ” ( A Z 1 À Ý × \ufeff é ß"
_QUOTED = ["“We lost. We won,”", '"Go. Now"', "“It is. It"]
_PIECE = st.sampled_from(_WORDS.split() * 2 + _MARKS.split() + _QUOTED)
_GAP = st.sampled_from([" ", " ", " ", "", "", "\u00a0", "\t", "\n", "\ufeff"])
_PIECES = st.lists(st.tuples(_PIECE, _GAP), max_size=16).map(
    lambda pieces: "".join(piece + gap for piece, gap in pieces)
)


def _plain_sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    paragraph = text[start:end]
    quoted = [
        m.span() for pattern in (*_QUOTES[:2], _QUOTES[4]) for m in pattern.finditer(paragraph)
    ]
    plain_boundary = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9À-Ý])")
    spans, cursor = [], 0
    for match in plain_boundary.finditer(paragraph):
        cut = match.end()
        inside = any(s < match.start() < e - 1 for s, e in quoted)
        if _is_abbreviation(paragraph[cursor:cut]) or inside:
            continue
        spans.append(_trim(text, start + cursor, start + cut))
        cursor = cut
    spans.append(_trim(text, start + cursor, end))
    return spans


@settings(max_examples=1000, deadline=None)
@given(text=_PIECES, start=st.integers(0, 200), end=st.integers(0, 200))
def test_sentence_spans_split_as_the_plain_way_does(text: str, start: int, end: int) -> None:
    start, end = min(start, len(text)), min(max(start, end), len(text))
    expected = _plain_sentence_spans(text, start, end)
    assert sentence_spans(text, start, end) == expected
    if '"' not in text and "“" not in text:
        assert sentence_spans(text, start, end, may_quote=False) == expected


@settings(max_examples=500, deadline=None)
@given(text=_PIECES, skip=st.lists(st.booleans(), min_size=40, max_size=40))
def test_statement_spans_are_the_plain_sentences_of_each_line(text: str, skip: list[bool]) -> None:
    lines = split_lines(text)
    skip = skip[: len(lines)]
    expected = []
    for index, (line, skipped) in enumerate(zip(lines, skip, strict=True)):
        if skipped or not line.text.strip():
            continue
        if index == 0 and ("\n" in text or "\r" in text):
            expected.append(_trim(text, line.start, line.end))
        else:
            expected.extend(_plain_sentence_spans(text, line.start, line.end))
    assert statement_spans(text, lines, skip) == [(s, e) for s, e in expected if e > s]


@settings(max_examples=1000, deadline=None)
@given(text=_PIECES, data=st.data())
def test_abbreviation_at_a_boundary_is_read_as_from_the_sentence(
    text: str, data: st.DataObject
) -> None:
    for match in _BOUNDARY.finditer(text):
        stop, cut = match.span()
        cursor = data.draw(st.integers(0, stop))
        assert _ends_abbreviation(text, cursor, stop, cut) == _is_abbreviation(text[cursor:cut])


def test_no_letter_or_digit_lowercases_shorter_or_to_an_opening_mark() -> None:
    # What lets ``_ends_abbreviation`` skip lower() for long words.
    for char in map(chr, range(sys.maxunicode + 1)):
        if char.isalnum():
            lowered = char.lower()
            assert lowered and lowered[0] not in _OPENING_MARKS, hex(ord(char))


def test_hard_wrapped_paragraphs_are_read_whole() -> None:
    text = (
        "Headline\n\n"
        "The World Anti-Doping Agency is urging the International Olympic\n"
        "Committee to ban all Russian teams from the upcoming Olympics in\n"
        "Rio de Janeiro.\n\n"
        "WADA also wants the IOC to ban all Russian officials from access to\n"
        "international competitions next month in Rio.\n"
    )
    spans = statement_spans(text, split_lines(text), [False] * len(split_lines(text)))
    sentences = [text[s:e] for s, e in spans]
    assert sentences[1].startswith("The World") and sentences[1].endswith("Rio de Janeiro.")
    assert sentences[2].startswith("WADA") and sentences[2].endswith("in Rio.")


def test_one_long_line_without_a_stop_stays_a_line_of_its_own() -> None:
    text = "Headline\nA sub-heading that runs on for more than forty characters\nA sentence."
    spans = statement_spans(text, split_lines(text), [False] * 3)
    assert len(spans) == 3


def test_a_wire_dateline_in_capitals_is_a_unit_of_its_own() -> None:
    text = "WASHINGTON - Russia is meddling, officials say.\nMoscow – The Kremlin denied it."
    spans = statement_spans(text, split_lines(text), [False, False])
    assert [text[s:e] for s, e in spans] == [
        "WASHINGTON -",
        "Russia is meddling, officials say.",
        "Moscow – The Kremlin denied it.",  # not in capitals: part of the sentence
    ]
