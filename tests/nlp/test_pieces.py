"""Cutting long articles into pieces (monitor/nlp/pieces.py) and tagging them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import PoisonError
from monitor.nlp.boilerplate import split_lines
from monitor.nlp.pieces import cut_pieces, cut_points, split_long_spans
from monitor.nlp.segment import statement_spans
from monitor.nlp.settings import NlpSettings
from monitor.nlp.tagger import Tagger
from tests.nlp.conftest import CONFIG_DIR, assert_offsets_index, read_fixture


def _spans(text: str) -> list[tuple[int, int]]:
    lines = split_lines(text)
    return statement_spans(text, lines, [False] * len(lines))


def test_cuts_prefer_paragraph_starts_and_never_split_a_statement() -> None:
    text = "Head\nOne two. Three four.\nFive six seven. Eight.\nNine ten."
    lines = split_lines(text)
    spans = _spans(text)
    cuts = cut_points(len(text), lines, spans, 30)
    assert cuts == [0, text.index("Five"), text.index("Nine")]
    cuts = cut_points(len(text), lines, spans, 15)
    assert text.index("Three") in cuts  # no paragraph start in reach: a statement start
    assert all(b - a <= 15 for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True))
    assert all(not (s < cut < e) for cut in cuts for s, e in spans)


def test_a_statement_longer_than_a_piece_is_split_at_whitespace() -> None:
    text = "word " * 20
    assert split_long_spans(text, [(0, 99)], 30) == [(0, 29), (30, 59), (60, 89), (90, 99)]
    assert split_long_spans("x" * 70, [(0, 70)], 30) == [(0, 30), (30, 60), (60, 70)]


def test_pieces_rebase_lines_spans_and_boilerplate() -> None:
    text = "Head\nAlpha beta.\nAdvertisement\nGamma delta."
    lines = split_lines(text)
    flags = [False, False, True, False]
    spans = statement_spans(text, lines, flags)
    ad = text.index("Advertisement")
    pieces = cut_pieces(text, lines, flags, spans, [(ad, ad + 13)], 20)
    rebuilt = [(p.start + s, p.start + e) for p in pieces for s, e in p.spans]
    assert rebuilt == spans
    assert all(len(p.text) <= 20 for p in pieces)
    boiler = [(p.start + s, p.start + e) for p in pieces for s, e in p.boilerplate]
    assert boiler == [(ad, ad + 13)]
    for piece in pieces:
        assert all(piece.text[ln.start : ln.end] == ln.text for ln in piece.lines)
        assert len(piece.lines) == len(piece.flags)


@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["vote.", "Kremlin", "rain", "said.", "\n", "\n\n", "Read more", "x" * 40]),
        max_size=120,
    ),
    max_chars=st.integers(min_value=8, max_value=200),
)
def test_every_piece_fits_and_statements_survive(words: list[str], max_chars: int) -> None:
    text = "Head\n" + " ".join(words)
    lines = split_lines(text)
    flags = [False] * len(lines)
    spans = statement_spans(text, lines, flags)
    pieces = cut_pieces(text, lines, flags, spans, [], max_chars)
    assert all(len(p.text) <= max_chars for p in pieces) or len(text) <= max_chars
    assert "".join(p.text for p in pieces) == text
    rebuilt = [(p.start + s, p.start + e) for p in pieces for s, e in p.spans]
    assert rebuilt == split_long_spans(text, spans, max_chars)


def test_small_pieces_give_the_same_statements_and_boilerplate() -> None:
    text = read_fixture("interference-denial.txt")
    whole = Tagger.from_settings(NlpSettings(), CONFIG_DIR).tag(text)
    pieces = Tagger.from_settings(NlpSettings(max_chars=300), CONFIG_DIR).tag(text)
    assert [(s.start, s.end, s.text) for s in pieces.statements] == [
        (s.start, s.end, s.text) for s in whole.statements
    ]
    assert pieces.boilerplate == whole.boilerplate
    assert pieces.entities == whole.entities
    for statement in pieces.statements:
        assert all(text[e.start : e.end] == e.text for e in statement.evidence)


@pytest.fixture(scope="module")
def small() -> Tagger:
    return Tagger.from_settings(NlpSettings(max_chars=40), CONFIG_DIR)


_PARTS = st.sampled_from(
    ["Moscow", "meddled", "in", "Moldova's", "vote", "said", "\n", "\r\n", ".", "Read more"]
)


@settings(max_examples=100, deadline=None)
@given(text=st.one_of(st.text(max_size=300), st.lists(_PARTS, max_size=60).map(" ".join)))
def test_offsets_of_a_tagged_long_text_index_it(small: Tagger, text: str) -> None:
    try:
        result = small.tag(text)
    except PoisonError:
        return
    assert_offsets_index(text, result)
    for span in (*result.entities, *result.boilerplate):
        assert text[span.start : span.end] == span.text
