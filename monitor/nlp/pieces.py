"""Cut a long article into pieces that are tagged one at a time.

Pure functions of the text and the cheap whole-article results (lines,
boilerplate flags, statement spans), so the headline and boilerplate blocks
are decided once for the whole article. A piece is at most ``max_chars``
characters long and never cuts a statement: it ends at a paragraph (line)
start when one is in reach, else at a statement start. A single statement
longer than ``max_chars`` (no sentence punctuation for pages) is first split
at whitespace into statements that fit.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise

from monitor.nlp.boilerplate import Line


@dataclass(frozen=True, slots=True)
class Piece:
    """``text`` is the article's ``[start, start + len(text))``; every offset
    in the other fields is relative to ``start``."""

    start: int
    text: str
    lines: list[Line]
    flags: list[bool]
    spans: list[tuple[int, int]]
    boilerplate: list[tuple[int, int]]


def split_long_spans(
    text: str, spans: list[tuple[int, int]], max_chars: int
) -> list[tuple[int, int]]:
    """``spans`` with each one longer than ``max_chars`` cut at whitespace
    (or hard, when a stretch has none) into parts of at most ``max_chars``."""
    result: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > max_chars:
            limit = start + max_chars
            space = text.rfind(" ", start + max_chars // 2, limit)
            cut = space if space > start else limit
            result.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            result.append((start, end))
    return result


def _last_between(values: list[int], low: int, high: int) -> int | None:
    """The largest of the sorted ``values`` in ``(low, high]``, if any."""
    index = bisect_right(values, high) - 1
    return values[index] if index >= 0 and values[index] > low else None


def cut_points(
    length: int, lines: list[Line], spans: list[tuple[int, int]], max_chars: int
) -> list[int]:
    """Start offsets of the pieces (the first is 0); every piece is at most
    ``max_chars`` long, provided no span is (see :func:`split_long_spans`)."""
    line_starts = [line.start for line in lines]
    span_starts = [start for start, _ in spans]
    cuts = [0]
    while length - cuts[-1] > max_chars:
        low, limit = cuts[-1], cuts[-1] + max_chars
        cut = _last_between(line_starts, low, limit)
        if cut is None:
            cut = _last_between(span_starts, low, limit)
        cuts.append(limit if cut is None else cut)
    return cuts


def _clip(line: Line, start: int, end: int, text: str) -> Line:
    first = max(line.start, start)
    last = max(first, min(line.end, end))
    return Line(first - start, last - start, text[first:last])


def _inside(
    spans: list[tuple[int, int]], starts: list[int], start: int, end: int
) -> list[tuple[int, int]]:
    """The spans starting in ``[start, end)``, rebased to ``start``."""
    first, last = bisect_left(starts, start), bisect_left(starts, end)
    return [(s - start, e - start) for s, e in spans[first:last]]


def _clipped(spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of ``spans`` inside ``[start, end)``, rebased to ``start``."""
    return [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and start < e]


def cut_pieces(
    text: str,
    lines: list[Line],
    flags: list[bool],
    spans: list[tuple[int, int]],
    boilerplate: list[tuple[int, int]],
    max_chars: int,
) -> list[Piece]:
    """The article as pieces of at most ``max_chars`` characters (one piece,
    the whole article, when it fits)."""
    if len(text) <= max_chars:
        return [Piece(0, text, lines, flags, spans, boilerplate)]
    spans = split_long_spans(text, spans, max_chars)
    cuts = cut_points(len(text), lines, spans, max_chars)
    line_starts = [line.start for line in lines]
    span_starts = [start for start, _ in spans]
    pieces = []
    for start, end in pairwise([*cuts, len(text)]):
        first = max(bisect_right(line_starts, start) - 1, 0)
        last = bisect_left(line_starts, end)
        pieces.append(
            Piece(
                start,
                text[start:end],
                [_clip(line, start, end, text) for line in lines[first:last]],
                flags[first:last],
                _inside(spans, span_starts, start, end),
                _clipped(boilerplate, start, end),
            )
        )
    return pieces
