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

#: A sentence's closing stops and marks; group 1 is the whitespace after them.
#: (``[.!?…]+`` is spelt ``[.!?…][.!?…]*``, the same pattern: the regex engine
#: skips fast to a possible start only when a pattern opens with a character
#: set, not a repeat, and the search takes half the time.)
_BOUNDARY = re.compile(r"[.!?…][.!?…]*[\"”’')\]»]*(?=(\s+)[\"“‘'(\[«„¿¡]?[A-Z0-9À-ÝА-ЯЁ])")
_LAST_WORD = re.compile(r"(\S+?)[.!?…]+[\"”’')\]»]*$")
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
_LONGEST_ABBREVIATION = max(map(len, _ABBREVIATIONS))
#: The opening marks an abbreviation may follow ("(Gen. Smith").
_OPENING_MARKS = "(\"“‘'"
#: The opening mark of each pattern in ``_QUOTES``, for a cheap first test.
_QUOTE_OPENERS = ("“", '"', "‘", "'", "“", "«", "„")
_QUOTES = (
    re.compile(r"“([^“”]+)”"),
    re.compile(r'(?<![\w])"([^"]+)"'),
    re.compile(r"(?<![\w])‘(.+?)’(?!\w)"),
    re.compile(r"(?<![\w])'(.+?)'(?!\w)"),
    # A quote that runs on into the next paragraph (no closing mark in this one).
    re.compile(r"“([^“”]+)$"),
    # Guillemets (Spanish, Russian) and low-high quotes („…“, Russian inner quotes).
    re.compile(r"«([^«»]+)»"),
    re.compile(r"„([^„“”]+)[“”]"),
)


def statement_spans(text: str, lines: Iterable[Line], skip: list[bool]) -> list[tuple[int, int]]:
    """Offsets of every statement in ``text``; lines flagged in ``skip`` are left out.

    In hard-wrapped text (paragraphs broken into lines of similar length, as
    plain-text wire copy is: see :func:`_hard_wrapped`), the lines of one
    paragraph are read as one paragraph, so a sentence is not cut at a wrap.
    """
    lines = list(lines)
    spans: list[tuple[int, int]] = []
    has_headline = "\n" in text or "\r" in text
    may_quote = "“" in text or '"' in text or "«" in text
    wrapped = _hard_wrapped(lines) if has_headline else frozenset()
    paragraph_start: int | None = None
    for index, ((start, end, line), skipped) in enumerate(zip(lines, skip, strict=True)):
        if skipped or not line or line.isspace():  # ``not line.strip()``, without the copy
            continue
        if index == 0 and has_headline and _DATELINE.match(text, start, end) is None:
            spans.append(_trim(text, start, end))  # (a dateline opens a body, not a headline)
            continue
        if index in wrapped and index + 1 < len(lines) and not skip[index + 1]:
            paragraph_start = start if paragraph_start is None else paragraph_start
            continue  # the paragraph goes on on the next line
        first = start if paragraph_start is None else paragraph_start
        paragraph_start = None
        dateline = _DATELINE.match(text, first, end)
        if dateline is not None:  # "WASHINGTON - Russia, China and Iran …": a unit of its own
            spans.append(_trim(text, first, dateline.end(1)))
            first = dateline.end()
        spans.extend(sentence_spans(text, first, end, may_quote=may_quote))
    return [span for span in spans if span[1] > span[0]]


#: A wire dateline opening a paragraph, in capitals, and its dash: "WASHINGTON -",
#: "MOSCOW (Reuters) —". Group 1 is the dateline with its dash.
_DATELINE = re.compile(
    r"(\s*[A-ZА-ЯЁ][A-ZА-ЯЁ.'’ ]{2,30}(?:,\s*[A-Z][A-Za-z.]+)?"  # WASHINGTON, D.C.; МОСКВА
    r"(?:\s*\([^()\n]{1,30}\))?\s+[-–—])"  # (Reuters) -
    r"\s+(?=[“\"«A-ZА-ЯЁ])"
)

#: A wrapped line: long, ending in no sentence stop, colon or closing mark.
_WRAP_MIN = 40
_UNWRAPPED_END = frozenset('.!?…:;"”’)]')


def _hard_wrapped(lines: list[Line]) -> frozenset[int]:
    """Indices of the lines a paragraph goes on after, in a text that is
    hard-wrapped: at least three long lines run on, without a stop, into a
    non-empty line that does not open a list item. (A single such line is
    more often a sub-heading than a wrap: it stays a line of its own.)"""
    found = []
    for index in range(1, len(lines) - 1):
        line, following = lines[index].text.rstrip(), lines[index + 1].text.lstrip()
        if (
            len(line) >= _WRAP_MIN
            and line[-1] not in _UNWRAPPED_END
            and following
            and following[0] not in "•*-–—"
        ):
            found.append(index)
    return frozenset(found) if len(found) >= 3 else frozenset()


def sentence_spans(
    text: str, start: int, end: int, *, may_quote: bool = True
) -> list[tuple[int, int]]:
    """Sentences of the paragraph ``text[start:end]`` (``0 <= start <= end <=
    len(text)``), trimmed of whitespace; offsets are the text's.

    ``may_quote=False`` tells that ``text`` holds no double quote mark (so no
    quote can hold a sentence boundary): a shortcut, the answer is the same.
    """
    quoted = _double_quoted(text, start, end) if may_quote else []
    spans = []
    cursor = start
    # Searching ``text`` between the bounds finds what searching a copy of the
    # paragraph would: the pattern has no lookbehind or anchor, and its
    # lookahead, like everything else, sees nothing past ``endpos``.
    for match in _BOUNDARY.finditer(text, start, end):
        stop, cut = match.span()
        if _ends_abbreviation(text, cursor, stop, cut) or (
            quoted and _inside(quoted, stop - start)
        ):
            continue
        spans.append(_trim(text, cursor, cut))
        # The next sentence starts after the whitespace the lookahead saw
        # (group 1: all of it, as the character after it is no whitespace, nor
        # a BOM). Starting there rather than at ``cut`` skips only what _trim
        # would skip, and leaves every later sentence the same last word.
        cursor = match.end(1)
    spans.append(_trim(text, cursor, end))
    return spans


def _ends_abbreviation(text: str, cursor: int, stop: int, cut: int) -> bool:
    """``_is_abbreviation(text[cursor:cut])``, for a ``_BOUNDARY`` match
    ``text[stop:cut]`` with ``cursor <= stop``; mostly without copying the sentence."""
    space = text.rfind(" ", cursor, stop)
    word = text[space + 1 if space >= 0 else cursor : stop]
    if not word.isalnum():
        return _is_abbreviation(text[cursor:cut])
    # The usual case: letters or digits after a space (or the sentence start).
    # None of them is whitespace, so the sentence's last run of non-space is
    # ``word`` and the stops; none is a stop, so ``_LAST_WORD``'s lazy group 1
    # ends where the stops begin: it is ``word``. lower() shortens no letter or
    # digit nor turns one into an opening mark (a test checks every character),
    # so a longer word than any abbreviation stays one, and is no initial.
    return len(word) <= _LONGEST_ABBREVIATION and _is_abbreviated(word)


def _is_abbreviation(sentence: str) -> bool:
    if sentence and not sentence[-1].isspace():
        # A match of ``_LAST_WORD`` holds no whitespace and ends at the end, so
        # the leftmost one starts where the last run of non-space starts:
        # matching that run alone finds what a search finds, without the
        # search trying every earlier position.
        match = _LAST_WORD.match(sentence.rsplit(None, 1)[-1])
    else:
        match = _LAST_WORD.search(sentence)
    return match is not None and _is_abbreviated(match.group(1))


def _is_abbreviated(word: str) -> bool:
    """Whether the word before a full stop (without the stop) is an initial
    or one of ``_ABBREVIATIONS``, ignoring case and opening marks."""
    word = word.lower().lstrip(_OPENING_MARKS)
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return word in _ABBREVIATIONS


def _double_quoted(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans between matching double quotes (curly or straight) in the paragraph
    ``text[start:end]``, and of a curly quote left open to its end; offsets are
    the paragraph's."""
    if (
        text.find("“", start, end) < 0
        and text.find('"', start, end) < 0
        and text.find("«", start, end) < 0
    ):
        return []  # the cheap answer for most paragraphs
    paragraph = text[start:end]  # the patterns look behind: give them the paragraph alone
    patterns = (*_QUOTES[:2], _QUOTES[4], _QUOTES[5])
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
    if (
        '"' not in sentence
        and "“" not in sentence
        and "'" not in sentence
        and "‘" not in sentence
        and "«" not in sentence
        and "„" not in sentence
    ):
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
