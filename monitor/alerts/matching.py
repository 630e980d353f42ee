"""Rule evaluation and alert construction: pure functions of their inputs.

The alert id is ``sha256(rule NUL fingerprint)`` truncated, where the
fingerprint is a hash of the statement's normalised text (case-folded,
accents kept, punctuation and quote styles dropped, whitespace collapsed).
The same statement from any feed, or read again after a restart, therefore
yields the same id, which receivers use as the idempotency key.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.alerts.conditions import Subject
from monitor.alerts.rules import Rule, RuleSet
from monitor.clock import iso_utc
from monitor.messages import Alert, ArticleRef, Match, Source, Span, Statement

_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired on a statement, with the terms it matched."""

    rule: Rule
    matches: tuple[Match, ...]


def evaluate(ruleset: RuleSet, statement: Statement, article: ArticleRef) -> list[RuleHit]:
    """Every rule of ``ruleset`` that holds for ``statement``, in rule order.

    Match offsets index ``statement.text``; duplicates of the same span are
    reported once.
    """
    subject = Subject(statement, article)
    candidates: Sequence[Rule] = ruleset.rules
    if ruleset.index is not None:
        subject.matching, positions = ruleset.index.screen_text(statement.text)
        candidates = [ruleset.rules[i] for i in positions]
    hits: list[RuleHit] = []
    for rule in candidates:
        found = rule.condition.test(subject)
        if found is None:
            continue
        unique = sorted({(f.start, f.end, f.term) for f in found})
        matches = tuple(
            Match(term=term, text=statement.text[start:end], start=start, end=end)
            for start, end, term in unique
        )
        hits.append(RuleHit(rule, matches))
    return hits


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """Text reduced to lower-case words separated by single spaces.

    Cached: one statement's text is normalised for the id of every rule it
    raises, and again by each of its candidates' story decisions."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def fingerprint(text: str) -> str:
    """A short stable hash of the normalised statement text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()[:32]


def alert_id(rule_name: str, statement_text: str) -> str:
    """Deterministic alert id: rule + statement fingerprint."""
    digest = hashlib.sha256(f"{rule_name}\0{fingerprint(statement_text)}".encode())
    return digest.hexdigest()[:24]


def sources_of(article: ArticleRef) -> tuple[Source, ...]:
    """The sources an article names, or one built from its own feed and URL."""
    if article.sources:
        return article.sources
    return (Source(feed_id=article.feed_id, feed_url="", entry_url=article.url),)


def rebase(statement: Statement) -> Statement:
    """``statement`` with every offset counted from its own text (``alert/2``).

    The NLP stage's offsets index the article document; the payload does not
    carry it, so evidence and entities are shifted by the statement's start,
    and the statement itself spans ``0 .. len(text)``.
    """
    shift = statement.start
    return dataclasses.replace(
        statement,
        start=0,
        end=len(statement.text),
        evidence=tuple(dataclasses.replace(e, start=e.start - shift, end=e.end - shift)
                       for e in statement.evidence),
        entities=tuple(Span(s.text, s.start - shift, s.end - shift, s.label)
                       for s in statement.entities),
    )


def make_alert(hit: RuleHit, statement: Statement, article: ArticleRef, now: float) -> Alert:
    """The alert for one rule hit, stamped with ``now``; the statement's offsets
    count from its own text (:func:`rebase`)."""
    labels = {"severity": hit.rule.severity, **hit.rule.labels}
    return Alert(
        id=alert_id(hit.rule.name, statement.text),
        rule=hit.rule.name,
        severity=hit.rule.severity,
        statement=rebase(statement),
        article=article,
        matches=hit.matches,
        created_at=iso_utc(now),
        labels=labels,
        sources=sources_of(article),
    )
