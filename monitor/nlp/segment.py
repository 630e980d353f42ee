"""Split an article into statements and find the quotes inside them.

Pure functions over the text. The headline (the first line, when a line break
follows it) is one statement; every other line is a paragraph split into
sentences. A sentence boundary inside a double-quoted passage that closes in
the same paragraph is ignored, so a multi-sentence quote and its attribution
stay one statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.nlp.boilerplate import Line

_BOUNDARY = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9À-Ý])")
_LAST_WORD = re.compile(r"(\S+?)[.!?…]+[\"”’')\]]*$")
# Words whose full stop does not end a sentence (lowercase, without the stop).
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "sen",
        "rep",
        "st",
        "jr",
        "sr",
        "lt",
        "col",
        "gov",
        "prof",
        "capt",
        "sgt",
        "adm",
        "cmdr",
        "maj",
        "gens",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "vs",
        "etc",
        "inc",
        "corp",
        "ltd",
        "co",
        "dept",
        "est",
        "approx",
        "fig",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "d.c",
    ]
)
#: The opening mark of each pattern in ``_QUOTES``, for a cheap first test.
_QUOTE_OPENERS = ("“", '"', "‘", "'", "“")
_QUOTES = (
    re.compile(r"“([^“”]+)”"),
    re.compile(r'(?<![\w])"([^"]+)"'),
    re.compile(r"(?<![\w])‘(.+?)’(?!\w)"),
    re.compile(r"(?<![\w])'(.+?)'(?!\w)"),
    # A quote that runs on into the next paragraph (no closing mark in this one).
    re.compile(r"“([^“”]+)$"),
)


def statement_spans(text: str, lines: Iterable[Line], skip: list[bool]) -> list[tuple[int, int]]:
    """Offsets of every statement in ``text``; lines flagged in ``skip`` are left out."""
    spans: list[tuple[int, int]] = []
    has_headline = "\n" in text or "\r" in text
    for index, (line, skipped) in enumerate(zip(lines, skip, strict=True)):
        if skipped or not line.text.strip():
            continue
        if index == 0 and has_headline:
            spans.append(_trim(text, line.start, line.end))
            continue
        spans.extend(sentence_spans(text, line.start, line.end))
    return [span for span in spans if span[1] > span[0]]


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of the paragraph ``text[start:end]``, trimmed of whitespace."""
    paragraph = text[start:end]
    quoted = _double_quoted(paragraph)
    spans = []
    cursor = 0
    for match in _BOUNDARY.finditer(paragraph):
        cut = match.end()
        if _is_abbreviation(paragraph[cursor:cut]) or (quoted and _inside(quoted, match.start())):
            continue
        spans.append(_trim(text, start + cursor, start + cut))
        cursor = cut
    spans.append(_trim(text, start + cursor, end))
    return spans


def _is_abbreviation(sentence: str) -> bool:
    if sentence and not sentence[-1].isspace():
        # A match of ``_LAST_WORD`` holds no whitespace and ends at the end, so
        # the leftmost one starts where the last run of non-space starts:
        # matching that run alone finds what a search finds, without the
        # search trying every earlier position.
        match = _LAST_WORD.match(sentence.rsplit(None, 1)[-1])
    else:
        match = _LAST_WORD.search(sentence)
    if match is None:
        return False
    word = match.group(1).lower().lstrip("(\"“‘'")
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return word in _ABBREVIATIONS


def _double_quoted(paragraph: str) -> list[tuple[int, int]]:
    """Spans between matching double quotes (curly or straight) in a paragraph,
    and of a curly quote left open to the end of the paragraph."""
    if "“" not in paragraph and '"' not in paragraph:  # the cheap answer for most paragraphs
        return []
    patterns = (*_QUOTES[:2], _QUOTES[4])
    return [m.span() for pattern in patterns for m in pattern.finditer(paragraph)]


def _inside(spans: list[tuple[int, int]], position: int) -> bool:
    return any(start < position < end - 1 for start, end in spans)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    if (
        start < end
        and not text[start].isspace()
        and text[start] != "\ufeff"
        and not text[end - 1].isspace()
    ):
        return start, end  # the common case, without the loops
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def quote_spans(sentence: str) -> list[tuple[int, int]]:
    """Spans of the quoted passages in a sentence (contents, without the marks),
    outermost first; straight, curly, double and single quotes."""
    if '"' not in sentence and "“" not in sentence and "'" not in sentence and "‘" not in sentence:
        return []  # the cheap answer for most sentences (these are all the opening marks)
    found: list[tuple[int, int]] = []
    for mark, pattern in zip(_QUOTE_OPENERS, _QUOTES, strict=True):
        if mark not in sentence:
            continue
        for match in pattern.finditer(sentence):
            inner = match.span(1)
            if not any(s <= inner[0] and inner[1] <= e for s, e in found):
                found.append(inner)
    return sorted(found)


def quote_text(sentence: str, spans: list[tuple[int, int]]) -> str | None:
    """The quoted words of a sentence, joined with " … " when there are several."""
    parts = [sentence[s:e].strip().rstrip(",") for s, e in spans]
    parts = [p for p in parts if p]
    return " … ".join(parts) if parts else None
