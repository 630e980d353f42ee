"""Find the parts of an article text that are not the article.

Pure functions of the text and the :class:`~monitor.nlp.lexicon.Boilerplate`
rules. Works line by line: a line is boilerplate when a config rule matches
it, when it reads as an appeal to the reader, or when it belongs to a block
opened by a block-start rule (donation appeals run to the end of the page),
or to the trailing run of short button-like lines ("Continue", "×").
The first line, the headline, is never boilerplate.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import NamedTuple

from monitor.errors import ConfigError, ConfigProblem
from monitor.nlp.lexicon import Boilerplate
from monitor.nlp.phrases import PhraseSet

_SENTENCE_END = re.compile(r"[.!?…:;\"”’)\]]\s*$")


class Line(NamedTuple):
    """One line of the text, without its line break (a tuple: there are many)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class BoilerplateRules:
    """Compiled :class:`Boilerplate` rules."""

    block_starts: _LineMatcher
    lines: _LineMatcher
    appeal: re.Pattern[str] | None
    appeal_min: int
    reader: re.Pattern[str] | None
    tail_max_words: int
    #: The appeal terms for a cheap first test (see :mod:`monitor.nlp.phrases`).
    appeal_terms: PhraseSet | None = None

    @classmethod
    def compile(cls, rules: Boilerplate, source: str) -> BoilerplateRules:
        """Compile the regexes; a bad one raises :class:`ConfigError` naming it."""
        return cls(
            block_starts=_compile_all(rules.block_starts, source, "block_starts"),
            lines=_compile_all(rules.lines, source, "lines"),
            appeal=_word_union(rules.appeal_terms),
            appeal_min=rules.appeal_min,
            reader=_word_union(rules.reader_words),
            tail_max_words=rules.tail_max_words,
            appeal_terms=PhraseSet(rules.appeal_terms) if rules.appeal_terms else None,
        )


@dataclass(frozen=True, slots=True)
class _LineMatcher:
    """Many line regexes as two: the ``^``-anchored ones are tried at the start
    of the line only, the others searched; one pass each instead of one per rule."""

    anchored: re.Pattern[str] | None
    floating: re.Pattern[str] | None

    def __call__(self, text: str) -> bool:
        return bool(
            (self.anchored is not None and self.anchored.match(text))
            or (self.floating is not None and self.floating.search(text))
        )


def _union(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _compile_all(patterns: tuple[str, ...], source: str, key: str) -> _LineMatcher:
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            problem = ConfigProblem(source, f"{key}.{index}", f"bad regex: {exc}")
            raise ConfigError([problem]) from exc
    anchored = [p[1:] for p in patterns if p.startswith("^")]
    floating = [p for p in patterns if not p.startswith("^")]
    return _LineMatcher(_union(anchored), _union(floating))


def _word_union(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?i)\b(?:{alternatives})\b")


def split_lines(text: str) -> list[Line]:
    """Every line of ``text`` with its offsets (line breaks excluded)."""
    lines = []
    position = 0
    new = tuple.__new__  # ``Line(...)`` without the keyword handling
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85")
        lines.append(new(Line, (position, position + len(body), body)))
        position += len(raw)
    return lines


def _is_appeal(text: str, rules: BoilerplateRules) -> bool:
    if rules.appeal is None or rules.reader is None:
        return False
    if rules.appeal_terms is not None and rules.appeal_terms.absent(text):
        return False
    if rules.appeal.search(text) is None:
        return False
    hits = {m.group(0).lower() for m in rules.appeal.finditer(text)}
    return len(hits) >= rules.appeal_min and rules.reader.search(text) is not None


def _is_chrome(text: str, max_words: int) -> bool:
    words = text.split()
    return len(words) <= max_words and not _SENTENCE_END.search(text)


def boilerplate_lines(
    lines: list[Line], rules: BoilerplateRules, appeals: list[tuple[int, int]] | None = None
) -> list[bool]:
    """One flag per line: True when the line is boilerplate.

    ``appeals``, when given, are the offsets of every appeal term in the text
    (as :attr:`monitor.nlp.terms.LowerScan.appeals` finds them, sorted): a line
    holding none is no appeal, which spares it the appeal test.
    """
    appeal_starts = None if appeals is None else [start for start, _ in appeals]
    flags = [False] * len(lines)
    block_open = False
    # The two matchers' patterns, called inline (this loop runs for every line).
    start_at, start_in = rules.block_starts.anchored, rules.block_starts.floating
    line_at, line_in = rules.lines.anchored, rules.lines.floating
    for index, line in enumerate(lines):
        text = line.text.strip()
        if index == 0 or not text:
            flags[index] = block_open and bool(text)
            continue
        if not block_open and (
            (start_at is not None and start_at.match(text))
            or (start_in is not None and start_in.search(text))
        ):
            block_open = True
        flags[index] = (
            block_open
            or bool(
                (line_at is not None and line_at.match(text))
                or (line_in is not None and line_in.search(text))
            )
            or (
                (appeal_starts is None or _holds(appeal_starts, line.start, line.end))
                and _is_appeal(text, rules)
            )
        )
    _flag_trailing_chrome(lines, flags, rules.tail_max_words)
    return flags


def _holds(starts: list[int], start: int, end: int) -> bool:
    """Whether one of the sorted ``starts`` lies in ``[start, end)``."""
    index = bisect_left(starts, start)
    return index < len(starts) and starts[index] < end


def _flag_trailing_chrome(lines: list[Line], flags: list[bool], max_words: int) -> None:
    """Short unpunctuated lines at the very end are buttons and links."""
    for index in range(len(lines) - 1, 0, -1):
        text = lines[index].text.strip()
        if not text or flags[index]:
            continue
        if not _is_chrome(text, max_words):
            return
        flags[index] = True


def boilerplate_spans(text: str, lines: list[Line], flags: list[bool]) -> list[tuple[int, int]]:
    """Merge flagged non-empty lines into spans; only whitespace between them joins."""
    spans: list[tuple[int, int]] = []
    for line, flagged in zip(lines, flags, strict=True):
        if not flagged or not line.text.strip():
            continue
        start = line.start + (len(line.text) - len(line.text.lstrip()))
        end = line.start + len(line.text.rstrip())
        if spans and not text[spans[-1][1] : start].strip():
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans
