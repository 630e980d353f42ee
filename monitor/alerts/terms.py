"""Keywords and regular expressions compiled for RE2, the linear-time engine.

RE2 guarantees matching time linear in the input, so no rule can stall the
sink with catastrophic backtracking; patterns RE2 cannot compile (back
references, look-around) are rejected when the rules are loaded.

Keyword syntax (case-insensitive, whole words):

* ``accept defeat`` — the words in order, any whitespace between them; each
  word also matches its common English inflections (``accepts``,
  ``accepted``, ``accepting``; ``rig`` → ``rigged``; ``deny`` → ``denies``);
* ``interfer*`` — a trailing ``*`` matches any word starting with the stem;
* ``accept * defeat`` — a lone ``*`` stands for up to two arbitrary words
  (``accept its defeat``, ``accept their own defeat``);
* ``"UN"`` — in double quotes: exact word, no inflections.
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

#: What counts as a word character on either side of a term (Unicode-aware:
#: RE2's ``\b`` only knows ASCII).
_WORD = r"\p{L}\p{N}_"
_VOWELS = set("aeiou")
#: Longest pattern source accepted; a guard against accidental megabyte rules.
MAX_PATTERN_CHARS = 2000


class PatternError(ValueError):
    """A keyword or regular expression that cannot be used; message says why."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # errors are reported by us, with the rule's name
    options.max_mem = 8 << 20
    return options


def _escape(text: str) -> str:
    return str(re2.escape(text))


def _inflected(word: str) -> str:
    """A pattern for ``word`` and its regular English inflections."""
    lower = word.lower()
    if not lower.isalpha() or len(lower) < 3:
        return _escape(word)
    if lower.endswith("e"):
        return _escape(word[:-1]) + "(?:e|es|ed|ing|e's|e’s)"
    if lower.endswith("y") and lower[-2] not in _VOWELS:
        return _escape(word[:-1]) + "(?:y|ies|ied|ying|y's|y’s)"
    doubled = ""
    if lower[-1] not in _VOWELS | {"w", "x", "y"} and lower[-2] in _VOWELS and (
        lower[-3] not in _VOWELS
    ):
        doubled = f"(?:{_escape(word[-1])}(?:ed|ing))|"
    return _escape(word) + f"(?:{doubled}s|es|ed|ing|'s|’s)?"


def keyword_pattern(keyword: str) -> str:
    """Translate one keyword (syntax in the module docstring) into RE2 syntax.

    The result has no capturing groups; callers add their own.
    """
    text = keyword.strip()
    if not text:
        raise PatternError("empty keyword")
    exact = len(text) >= 2 and text.startswith('"') and text.endswith('"')
    if exact:
        text = text[1:-1].strip()
    words = text.split()
    if not words or words[0] == "*" or words[-1] == "*":
        raise PatternError(f"keyword {keyword!r}: a lone * must stand between two words")
    parts: list[str] = []
    for word in words:
        if word == "*":
            parts.append(r"(?:\S+\s+){0,2}?")
            continue
        if word.endswith("*") and len(word) > 1 and not exact:
            piece = _escape(word[:-1]) + f"[{_WORD}]*"
        elif exact:
            piece = _escape(word)
        else:
            piece = _inflected(word)
        parts.append(piece + r"\s+")
    return "".join(parts).removesuffix(r"\s+")


@dataclass(frozen=True, slots=True)
class Found:
    """One occurrence of a term: which term and where (string indices)."""

    term: str
    start: int
    end: int


class TermMatcher:
    """Finds any of several terms in a text, reporting each occurrence.

    Terms are keywords (whole words) or raw regular expressions, compiled into
    one RE2 program with a capture group per term.
    """

    def __init__(self, terms: list[tuple[str, str]], *, whole_words: bool) -> None:
        """``terms`` are (label, RE2 source) pairs; raises PatternError if one is bad."""
        if not terms:
            raise PatternError("no terms")
        self.labels = tuple(label for label, _ in terms)
        for label, source in terms:
            _check(label, source)
        body = "|".join(f"({source})" for _, source in terms)
        if whole_words:
            pattern = f"(?i)(?:^|[^{_WORD}])(?:{body})(?:$|[^{_WORD}])"
        else:
            pattern = f"(?i)(?:{body})"
        self.pattern = pattern
        try:
            self._regex = re2.compile(pattern, _options())
        except re2.error as exc:
            raise PatternError(_re2_message(exc)) from exc

    def find_all(self, text: str) -> list[Found]:
        """Every non-overlapping occurrence, left to right."""
        found: list[Found] = []
        position = 0
        while position <= len(text):
            match = self._regex.search(text, position)
            if match is None:
                break
            index = next(i for i, g in enumerate(match.groups()) if g is not None)
            start, end = match.span(index + 1)
            found.append(Found(self.labels[index], start, end))
            position = end if end > start else end + 1
        return found

    def search(self, text: str) -> bool:
        """Whether any term occurs (cheaper than :meth:`find_all`)."""
        return self._regex.search(text) is not None


def _check(label: str, source: str) -> None:
    if len(source) > MAX_PATTERN_CHARS:
        raise PatternError(f"{label!r}: pattern longer than {MAX_PATTERN_CHARS} characters")
    try:
        compiled = re2.compile(source, _options())
    except re2.error as exc:
        raise PatternError(f"{label!r}: {_re2_message(exc)}") from exc
    if compiled.groups:
        # Inner groups would shift our per-term group numbers.
        raise PatternError(f"{label!r}: use non-capturing groups (?:...) only")
    if compiled.search("") is not None:
        raise PatternError(f"{label!r}: matches the empty string")


def _re2_message(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return f"not a valid RE2 pattern: {detail}"
