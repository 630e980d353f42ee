"""Case-insensitive cue patterns that open on a word: fast, with ``re``'s answers.

The interference lexicon's ``weak_patterns`` ("help … win", "target … voters")
are regexes searched case-insensitively in every article. Python's ``re``
scans such an alternation slowly: ``\\b`` at the start of each alternative
and ``IGNORECASE`` stop it from skipping ahead to the letters a match can
start with, and the scan cost a tenth of a neutral article's tagging.

:class:`CuePatterns` searches the lowercased text with the patterns'
leading ``\\b`` taken off and no ``IGNORECASE``, which ``re`` scans by first
letter, and keeps a match only where ``\\b`` held; a match that starts inside
a word is dropped and the search goes on from the next character, so the
matches are exactly those of the original patterns (the leftmost at each
step, never overlapping).

Exactness needs: every pattern opens with ``\\b`` and a lowercase ASCII letter
and holds no other uppercase letter but in an escape (``\\S``), so the
lowercase text matches without ``IGNORECASE`` what the original matches with
it; and lowercasing keeps the text's offsets and folds the way ``re`` does
(:func:`monitor.nlp.phrases.folds_safely`). Otherwise the original combined
pattern runs.
"""

from __future__ import annotations

import re

from monitor.nlp.phrases import folds_safely, is_word_char

_OPENS_ON_A_WORD = re.compile(r"\\b[a-z]")
_ESCAPE = re.compile(r"\\.")


class CuePatterns:
    """Where any of some case-insensitive patterns matches a text."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self._plain = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        fast = all(
            _OPENS_ON_A_WORD.match(p) and not any(c.isupper() for c in _ESCAPE.sub("", p))
            for p in patterns
        )
        self._lowered = re.compile("|".join(f"(?:{p[2:]})" for p in patterns)) if fast else None

    def spans(self, text: str, lowered: str | None = None) -> list[tuple[int, int]]:
        """``(start, end)`` of each match in ``text``, as ``re.finditer`` of the
        patterns would give them; ``lowered`` is ``text.lower()``, if made."""
        if self._lowered is None:
            return [m.span() for m in self._plain.finditer(text)]
        if lowered is None:
            lowered = text.lower()
        if not folds_safely(text, lowered):
            return [m.span() for m in self._plain.finditer(text)]
        found: list[tuple[int, int]] = []
        search, position = self._lowered.search, 0
        while (match := search(lowered, position)) is not None:
            start, end = match.span()
            if start and is_word_char(lowered[start - 1]):
                position = start + 1  # no "\b" here: a later start may match
                continue
            found.append((start, end))
            position = end if end > start else end + 1
        return found
