"""One notification per story: the pure grouping decision.

The per-statement decision (:func:`monitor.alerts.story.decide`) runs first,
for every rule hit, exactly as in per-statement mode: silences, rate limits
and de-duplication apply there. What it lets through for one article (alerts
to emit, update or replay) is then grouped here into the story's
:class:`~monitor.messages.StoryNotification`:

* :func:`story_of` names the story: the one an alert of the article already
  belongs to (a syndicated copy joins its original's story), else a new one
  named after the article;
* :func:`regroup` merges the alerts into the story's current notification.
  Anything new — a statement, a rule firing on a statement, a source — makes
  a new revision (``revision`` + 1, ``updated_at`` = ``now``); an article read
  again with nothing new replays the current revision unchanged (delivery
  skips receivers that have it); otherwise nothing is published.

Both are functions of their inputs and ``now``; :mod:`monitor.alerts.state`
loads the inputs and stores the outcome. When a revision reaches a receiver
(``group_interval_s``) is delivery's decision
(:func:`monitor.alerts.delivery.progress.paced_until`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.alerts.matching import fingerprint
from monitor.clock import iso_utc
from monitor.messages import Alert, RuleFired, Source, StoryNotification, StoryStatement

#: Severities from lowest to highest (as rules.yaml spells them).
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")

GroupAction = Literal["new", "revise", "replay", "none"]


@dataclass(frozen=True, slots=True)
class GroupDecision:
    """What to publish for a story: ``notification`` unless ``action`` is ``none``."""

    action: GroupAction
    notification: StoryNotification | None = None


def story_id(article_id: str) -> str:
    """The id of the story an article starts: deterministic, so a replay finds it."""
    return hashlib.sha256(f"story\0{article_id}".encode()).hexdigest()[:24]


def story_of(article_id: str, alert_ids: Iterable[str], membership: Mapping[str, str]) -> str:
    """The story an article's alerts belong to.

    ``membership`` maps per-statement alert ids to the story that holds them;
    the first of ``alert_ids`` found there decides. None found: a new story
    named after the article (:func:`story_id`).
    """
    for alert_id in alert_ids:
        if alert_id in membership:
            return membership[alert_id]
    return story_id(article_id)


def highest(severities: Iterable[str]) -> str:
    """The highest of ``severities``; an unknown name ranks lowest."""
    ranked = sorted(severities, key=lambda s: SEVERITIES.index(s) if s in SEVERITIES else -1)
    return ranked[-1] if ranked else "info"


def regroup(
    current: StoryNotification | None,
    notification_id: str,
    alerts: Sequence[Alert],
    replayed: bool,
    now: float,
) -> GroupDecision:
    """Merge ``alerts`` (what the per-statement decision let through for one
    article) into the story's ``current`` notification (see module docstring).

    ``replayed``: an alert among them was a replay (the article was read
    again), so an unchanged notification is published again.
    """
    if current is None:
        if not alerts:
            return GroupDecision("none")
        first = alerts[0]
        start = StoryNotification(
            id=notification_id,
            revision=1,
            severity=first.severity,
            rules=(),
            article=first.article,
            statements=(),
            sources=(),
            created_at=iso_utc(now),
            updated_at=iso_utc(now),
        )
        return GroupDecision("new", _merged(start, alerts))
    merged = _merged(current, alerts)
    if merged != current:
        revised = dataclasses.replace(
            merged, revision=current.revision + 1, updated_at=iso_utc(now)
        )
        return GroupDecision("revise", revised)
    return GroupDecision("replay", current) if replayed else GroupDecision("none")


def _merged(story: StoryNotification, alerts: Sequence[Alert]) -> StoryNotification:
    """``story`` with every statement, rule and source of ``alerts`` it lacks, in order."""
    statements = list(story.statements)
    sources = list(story.sources)
    for alert in alerts:
        _add_statement(statements, alert)
        _add_sources(sources, alert.sources)
    rules = tuple(dict.fromkeys(f.rule for s in statements for f in s.rules))
    severity = highest(f.severity for s in statements for f in s.rules)
    return dataclasses.replace(
        story, statements=tuple(statements), sources=tuple(sources), rules=rules, severity=severity
    )


def _add_statement(statements: list[StoryStatement], alert: Alert) -> None:
    fired = RuleFired(alert.rule, alert.severity, alert.id, alert.matches, dict(alert.labels))
    key = fingerprint(alert.statement.text)
    for index, known in enumerate(statements):
        if fingerprint(known.statement.text) == key:
            if all(f.rule != alert.rule for f in known.rules):
                statements[index] = dataclasses.replace(known, rules=(*known.rules, fired))
            return
    statements.append(StoryStatement(alert.statement, alert.article, (fired,)))


def _add_sources(sources: list[Source], extra: Iterable[Source]) -> None:
    known = {(s.feed_id, s.entry_url) for s in sources}
    for source in extra:
        if (source.feed_id, source.entry_url) not in known:
            known.add((source.feed_id, source.entry_url))
            sources.append(source)
