"""Compiled rule conditions: small immutable nodes evaluated against one statement.

``test`` returns ``None`` when the condition does not hold, else the text
occurrences that made it hold (possibly none, e.g. for a tag condition).
Evaluation is pure: no clock, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from monitor.alerts.terms import Found, TermMatcher
from monitor.messages import ArticleRef, Statement

_WORD = re.compile(r"\w+")


@dataclass
class Subject:
    """One statement with its article, plus lazily computed lookups."""

    statement: Statement
    article: ArticleRef
    #: When a prefilter ran: ids of the TermMatchers that match the text. None: unknown.
    matching: frozenset[int] | None = None

    @cached_property
    def tags(self) -> frozenset[str]:
        return frozenset(t.casefold() for t in self.statement.tags)

    @cached_property
    def entities(self) -> frozenset[tuple[str, str]]:
        return frozenset((e.text.casefold(), e.label) for e in self.statement.entities)

    @cached_property
    def speaker(self) -> tuple[str, ...]:
        """The speaker's name as case-folded words (empty when unknown)."""
        return name_words(self.statement.speaker or "")

    @cached_property
    def feeds(self) -> frozenset[str]:
        return frozenset({self.article.feed_id, *(s.feed_id for s in self.article.sources)})


class Condition(Protocol):
    def test(self, subject: Subject) -> list[Found] | None:
        """None if the condition fails, else the occurrences it found."""


@dataclass(frozen=True, slots=True)
class TextMatch:
    """Any of a set of keywords / regular expressions occurs in the statement."""

    matcher: TermMatcher

    def test(self, subject: Subject) -> list[Found] | None:
        if subject.matching is not None and id(self.matcher) not in subject.matching:
            return None
        found = self.matcher.find_all(subject.statement.text)
        return found or None


@dataclass(frozen=True, slots=True)
class TagIn:
    tags: frozenset[str]

    def test(self, subject: Subject) -> list[Found] | None:
        return [] if self.tags & subject.tags else None


@dataclass(frozen=True, slots=True)
class EntityIn:
    """An entity with one of these (casefolded) texts, optionally of these labels."""

    texts: frozenset[str]
    labels: frozenset[str] | None

    def test(self, subject: Subject) -> list[Found] | None:
        for text, label in subject.entities:
            if text in self.texts and (self.labels is None or label in self.labels):
                return []
        return None


@dataclass(frozen=True, slots=True)
class SpeakerIn:
    """The speaker's name contains one of ``names`` as whole words, in order.

    "peskov" matches "Dmitry Peskov" and "foreign ministry" "Russia's Foreign
    Ministry", but "li" does not match "Julian Assange": a substring test let
    short names fire on every speaker whose name merely contains the letters.
    """

    names: tuple[str, ...]
    _words: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = tuple(w for w in (name_words(n) for n in self.names) if w)
        object.__setattr__(self, "_words", words)

    def test(self, subject: Subject) -> list[Found] | None:
        speaker = subject.speaker
        if any(_contains_run(speaker, name) for name in self._words):
            return []
        return None


def name_words(name: str) -> tuple[str, ...]:
    """A name as case-folded words; punctuation (possessives, hyphens) splits words."""
    return tuple(_WORD.findall(unicodedata.normalize("NFKC", name).casefold()))


def _contains_run(words: tuple[str, ...], run: tuple[str, ...]) -> bool:
    """Whether ``run`` occurs in ``words`` as consecutive items."""
    size = len(run)
    return any(words[i:i + size] == run for i in range(len(words) - size + 1))


@dataclass(frozen=True, slots=True)
class FeedIn:
    feeds: frozenset[str]

    def test(self, subject: Subject) -> list[Found] | None:
        return [] if self.feeds & subject.feeds else None


@dataclass(frozen=True, slots=True)
class LanguageIn:
    """The article is in one of these languages (ISO 639-1, as the NLP stage identified)."""

    languages: frozenset[str]

    def test(self, subject: Subject) -> list[Found] | None:
        return [] if subject.article.language in self.languages else None


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Condition, ...]

    def test(self, subject: Subject) -> list[Found] | None:
        found: list[Found] = []
        for part in self.parts:
            result = part.test(subject)
            if result is None:
                return None
            found.extend(result)
        return found


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Holds if one part holds; reports the occurrences of every part that holds."""

    parts: tuple[Condition, ...]

    def test(self, subject: Subject) -> list[Found] | None:
        found: list[Found] | None = None
        for part in self.parts:
            result = part.test(subject)
            if result is not None:
                found = (found or []) + result
        return found


@dataclass(frozen=True, slots=True)
class NoneOf:
    parts: tuple[Condition, ...]

    def test(self, subject: Subject) -> list[Found] | None:
        for part in self.parts:
            if part.test(subject) is not None:
                return None
        return []
