"""A cheap, exact stand-in for ``re.search(r"(?i)\\b(?:one|of|these)\\b", text)``.

Python's ``re`` is slow on a case-insensitive alternation of many words: it
tries every alternative at every position. :class:`PhraseSet` asks one
Aho-Corasick pass over ``text.lower()`` instead, and checks word boundaries
on the original text the way ``\\b`` does (a word character is ``isalnum()``
or ``_``, exactly ``re``'s Unicode ``\\w``).

Exactness: lowercasing finds every match that ``re.IGNORECASE`` finds when
the phrases are ASCII, start and end with a word character, and lowercasing
the text keeps every offset (the same length) and leaves no character that
``re`` folds to an ASCII letter while ``str.lower`` keeps it ("ı", "ſ": of
all code points, only these and "İ" and the Kelvin sign "K" match an ASCII
letter under ``re.IGNORECASE``; "İ" changes the length, "K" lowers to "k").
When any of that does not hold, :meth:`PhraseSet.absent` answers ``False``
("cannot tell") and the caller runs its regex.
"""

from __future__ import annotations

import ahocorasick

#: Non-ASCII characters that ``re.IGNORECASE`` equates with an ASCII letter
#: but ``str.lower`` leaves unchanged (dotless i, long s). Checked by a test.
FOLD_TRAPS = ("ı", "ſ")


#: The ASCII characters ``str.splitlines`` breaks lines at.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e"


def folds_safely(text: str, lowered: str) -> bool:
    """Whether a search of ASCII phrases in ``lowered`` (``text.lower()``)
    finds exactly what a case-insensitive ``re`` search of ``text`` finds."""
    return len(lowered) == len(text) and "ı" not in text and "ſ" not in text  # FOLD_TRAPS


def is_word_char(char: str) -> bool:
    """``re``'s ``\\w`` for one character of a ``str`` pattern."""
    return char.isalnum() or char == "_"


def bounded(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` has ``\\b`` on both sides (given it starts
    and ends with a word character)."""
    return (start == 0 or not is_word_char(text[start - 1])) and (
        end >= len(text) or not is_word_char(text[end])
    )


class PhraseSet:
    """Whole-word, case-insensitive occurrences of some phrases."""

    def __init__(self, phrases: tuple[str, ...] | frozenset[str]) -> None:
        words = {p.lower() for p in phrases}
        #: The phrases, lowercased.
        self.phrases = frozenset(words)
        #: False when some phrase breaks the exactness conditions (see module doc),
        #: or could span a line break: then :meth:`absent` never answers True.
        self.exact = bool(words) and all(
            w.isascii()
            and is_word_char(w[0])
            and is_word_char(w[-1])
            and not any(c in w for c in _LINE_BREAKS)
            for w in words
        )
        self._automaton = ahocorasick.Automaton()
        for word in words:
            self._automaton.add_word(word, len(word))
        if words:
            self._automaton.make_automaton()

    def absent(self, text: str) -> bool:
        """True only when no phrase occurs in ``text`` as a whole word (ignoring
        case): then the regex would find nothing. False means "maybe"."""
        if not self.exact:
            return False
        lowered = text.lower()
        if not folds_safely(text, lowered):
            return False
        for end, length in self._automaton.iter(lowered):
            if bounded(text, end - length + 1, end + 1):
                return False
        return True
