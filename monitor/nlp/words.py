"""The words of a sentence, and runs of capitalised names among them.

Pure functions, the ground :mod:`monitor.nlp.speakers`' attribution rules
stand on: :func:`words_of` splits a sentence into :class:`Word` tuples with
their offsets and lookup keys; :func:`run_left` and :func:`run_right` find
the name a word belongs to ("Dmitry Peskov", "Ministry of Culture, Sports and
Tourism").
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import NamedTuple

from monitor.nlp.speech_rules import SpeechRules

# A word: word characters, apostrophes and hyphens, with inner full stops
# ("U.S"), and maybe a final one; or a punctuation mark that matters.
_WORD = re.compile(r"\w[\w'’-]*+(?:\.(?=\w)[\w'’-]*+)*+\.?|[“”\"‘’,:;()—–«»„]")
# The same words, each with what lies between it and the previous one (the
# characters no word starts with), so that one ``findall`` gives the offsets.
# The quantifiers are possessive (``*+``: they never give characters back),
# which spares the regex engine its backtracking bookkeeping and changes no
# match: a gap holds no character a word can start with, and after a word's
# first character all is optional, so the first way of matching succeeds.
_GAP_AND_WORD = re.compile(rf"([^\w“”\"‘’,:;()—–«»„]*+)({_WORD.pattern})")
#: What joins the names an institution's "of" part lists ("Health and Human Services").
_JOINERS = frozenset({"and", "&", ","})
_LAST_JOINERS = frozenset({"and", "&"})
_OF = frozenset({"of", "for"})
_POSSESSIVE = ("’s", "'s")


class Word(NamedTuple):
    """A word or punctuation mark of a sentence (a tuple: there are many)."""

    text: str
    start: int
    end: int
    #: Lowercase, without a trailing full stop: how vocabularies are looked up.
    key: str


def words_of(sentence: str) -> list[Word]:
    """The words and punctuation marks of a sentence."""
    new = tuple.__new__  # what ``Word(...)`` does, without the keyword handling
    words: list[Word] = []
    append = words.append
    end = 0
    for gap, text in _GAP_AND_WORD.findall(sentence):
        start = end + len(gap)
        end = start + len(text)
        append(new(Word, (text, start, end, text.lower().rstrip("."))))
    return words


def outside(words: list[Word], spans: list[tuple[int, int]]) -> list[Word]:
    """The words that start in none of the spans (``start <= word start < end``).

    Words are in order of their starts, so each span drops one slice of them,
    found by bisection; spans may be in any order and may overlap.
    """
    starts = [word.start for word in words]
    kept: list[Word] = []
    done = 0  # words before this index are kept or dropped already
    for start, end in sorted(spans):
        first = bisect_left(starts, start, done)
        kept += words[done:first]  # before this span and the later ones
        # From ``done`` on, words start at or after the end of every span so far.
        done = bisect_left(starts, end, first)
    kept += words[done:]
    return kept


def is_name(word: Word, rules: SpeechRules) -> bool:
    return word.text[0].isupper() and word.key not in rules.not_names


def is_possessive(text: str) -> bool:
    """Whether ``text`` ends in a possessive "'s" (straight or curly)."""
    return text.endswith(_POSSESSIVE)


def is_verb(words: list[Word], index: int) -> bool:
    """Whether ``words[index]`` may be the verb after a subject: a lowercase word."""
    return index < len(words) and words[index].text.isalpha() and words[index].text.islower()


def run_left(words: list[Word], last: int, rules: SpeechRules) -> int:
    """Index of the first word of the name run ending at ``last``; an
    institution's name takes in the names its "of" part lists: "Ministry of
    Culture, Sports and Tourism" (a list ends in "and": "Lavrov and Peskov"
    stays two names, having no "of")."""
    first = _plain_run_left(words, last, rules)
    if first < 2 or words[first - 1].text not in _LAST_JOINERS:
        return first
    start = first
    while start >= 2 and words[start - 1].text in _JOINERS and is_name(words[start - 2], rules):
        start = _plain_run_left(words, start - 2, rules)
        if _has_of(words, start, first):
            return start
    return first


def _plain_run_left(words: list[Word], last: int, rules: SpeechRules) -> int:
    first = last
    while first - 1 >= 0:
        prev = words[first - 1]
        if is_name(prev, rules):
            first -= 1
        elif prev.key in rules.connectors and first - 2 >= 0 and is_name(words[first - 2], rules):
            first -= 2
        else:
            break
    return first


def run_right(words: list[Word], first: int, rules: SpeechRules) -> int:
    """Index of the last word of the name run starting at ``first``, with the
    names an institution's "of" part lists, up to the one after "and", as in
    :func:`run_left`."""
    last = _plain_run_right(words, first, rules)
    if not _has_of(words, first, last):
        return last
    end = last
    while (
        end + 2 < len(words) and words[end + 1].text in _JOINERS and is_name(words[end + 2], rules)
    ):
        joiner = words[end + 1].text
        end = _plain_run_right(words, end + 2, rules)
        if joiner in _LAST_JOINERS:
            last = end
    return last


def _plain_run_right(words: list[Word], first: int, rules: SpeechRules) -> int:
    last = first
    while last + 1 < len(words):
        nxt = words[last + 1]
        if is_name(nxt, rules):
            last += 1
        elif (
            nxt.key in rules.connectors
            and last + 2 < len(words)
            and is_name(words[last + 2], rules)
        ):
            last += 2
        else:
            break
    return last


def _has_of(words: list[Word], first: int, last: int) -> bool:
    """Whether the name run ``words[first:last + 1]`` holds an "of" or "for"."""
    return any(words[index].key in _OF for index in range(first, last + 1))
