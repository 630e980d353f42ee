"""Backtest and replay: the alert tools that read statement and alert history.

:func:`backtest` runs rules over tagged articles from one of two places and
sends nothing: the local statement history the NLP stage records
(:mod:`monitor.nlp.history`, what an embedded install has) or the statements
topic of a Kafka bus (:func:`topic_records`). :class:`Simulation` is the pure
part: it counts, per rule, the statements it fires on, the stories and the
notifications the alert sink would send, with a few examples.

Stories and notifications, as the sink groups them (``notify: story``): a
story is an article with its syndicated copies — a later article joins the
story of an earlier one when it has the same id or when a rule fires on a
statement with the same normalised text (the same alert id,
:func:`~monitor.alerts.matching.alert_id`), as the sink's grouping links them.
A story's first firing is one notification; each later record that brings
new material (a statement or rule not yet in it, or a new source) is one
revision, and revisions arriving within ``group_interval_s`` of the story's
last notification are sent as one. A rule is counted in a notification when
it brought new material to it. Silences and rate limits are not simulated.

``replay`` re-sends dead-lettered alerts. Both are plain functions so tests
can call them on the embedded bus; :mod:`monitor.alerts.commands` wraps them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from monitor.alerts.delivery import DeliveryEngine, deadletter_extractor
from monitor.alerts.matching import RuleHit, alert_id, evaluate, fingerprint, sources_of
from monitor.alerts.notifiers import Notifier
from monitor.alerts.role import build_notifiers
from monitor.alerts.rules import RuleSet
from monitor.alerts.settings import AlertSettings, RetryBudget
from monitor.alerts.store import DELIVERED, AlertStore
from monitor.bus.base import Bus
from monitor.bus.codec import decode
from monitor.clock import Clock, iso_utc
from monitor.config import Settings
from monitor.errors import DecodeError
from monitor.messages import Statement, TaggedArticle
from monitor.ops.metrics import Metrics


@dataclass(frozen=True, slots=True)
class Example:
    """One statement a rule fired on, with the words it matched."""

    text: str
    url: str
    words: tuple[str, ...]


@dataclass
class RuleCount:
    """What one rule did over the history."""

    statements: int = 0
    stories: set[str] = field(default_factory=set)
    notifications: int = 0
    examples: list[Example] = field(default_factory=list)


@dataclass
class BacktestReport:
    """Per-rule counts over the articles read (see module docstring)."""

    articles: int = 0
    statements: int = 0
    undecodable: int = 0
    stories: int = 0
    notifications: int = 0
    rules: dict[str, RuleCount] = field(default_factory=dict)

    @property
    def revisions(self) -> int:
        return self.notifications - self.stories


@dataclass
class _Story:
    """What the simulated sink knows of one story."""

    pairs: set[tuple[str, str]] = field(default_factory=set)  # (rule, fingerprint)
    sources: set[tuple[str, str]] = field(default_factory=set)
    sends: int = 0
    #: A revision may be sent at or after this time; one waiting is sent then.
    next_at: float = float("-inf")
    waiting_until: float | None = None


class Simulation:
    """Feeds tagged articles, oldest first, through the rules; pure (no clock, no I/O)."""

    def __init__(self, rules: RuleSet, *, samples: int = 3, group_interval_s: float = 0.0) -> None:
        self._rules = rules
        self._samples = samples
        self._interval = group_interval_s
        self._stories: dict[str, _Story] = {}
        self._story_of: dict[str, str] = {}  # article id or alert id → story
        self._credited: dict[tuple[str, str], int] = {}  # (story, rule) → send counted
        self.report = BacktestReport(rules={r.name: RuleCount() for r in rules.rules})

    def add(self, tagged: TaggedArticle, at: float | None) -> None:
        """One tagged article, recorded (or published) at ``at`` (None: unknown)."""
        report = self.report
        report.articles += 1
        report.statements += len(tagged.statements)
        hits = [
            (hit, statement)
            for statement in tagged.statements
            for hit in evaluate(self._rules, statement, tagged.article)
        ]
        if not hits:
            return
        key, story = self._story(tagged, [alert_id(h.rule.name, s.text) for h, s in hits])
        sources = {(s.feed_id, s.entry_url) for s in sources_of(tagged.article)}
        new_source = not sources <= story.sources
        story.sources |= sources
        bringing: set[str] = set()
        for hit, statement in hits:
            name = hit.rule.name
            self._count_hit(key, hit, statement, tagged.article.url)
            pair = (name, fingerprint(statement.text))
            if new_source or pair not in story.pairs:
                bringing.add(name)
            story.pairs.add(pair)
        if bringing:
            self._notify(key, story, bringing, at)

    def _story(self, tagged: TaggedArticle, alert_ids: list[str]) -> tuple[str, _Story]:
        """The story of an article: its own if seen before, else the one an alert
        of it (rule + statement fingerprint) already belongs to, else a new one."""
        links = (tagged.article.id, *alert_ids)
        known = [self._story_of[k] for k in links if k in self._story_of]
        key = known[0] if known else tagged.article.id
        if key not in self._stories:
            self._stories[key] = _Story()
            self.report.stories += 1
        for link in links:
            self._story_of.setdefault(link, key)
        return key, self._stories[key]

    def _count_hit(self, key: str, hit: RuleHit, statement: Statement, url: str) -> None:
        count = self.report.rules[hit.rule.name]
        count.statements += 1
        count.stories.add(key)
        if len(count.examples) < self._samples:
            words = tuple(dict.fromkeys(m.text for m in hit.matches))
            count.examples.append(Example(statement.text, url, words))

    def _notify(self, key: str, story: _Story, rules: set[str], at: float | None) -> None:
        """Count the notification carrying new material from ``rules`` at ``at``."""
        moment = at if at is not None and self._interval > 0 else None
        if moment is not None and story.waiting_until is not None and moment >= story.waiting_until:
            story.next_at, story.waiting_until = story.waiting_until + self._interval, None
        if moment is None or moment >= story.next_at:
            story.sends += 1
            self.report.notifications += 1
            if moment is not None:
                story.next_at = moment + self._interval
        elif story.waiting_until is None:  # held back until the interval has passed
            story.sends += 1
            self.report.notifications += 1
            story.waiting_until = story.next_at
        for name in rules:  # joins the send counted last (now, or the one waiting)
            if self._credited.get((key, name)) != story.sends:
                self._credited[(key, name)] = story.sends
                self.report.rules[name].notifications += 1


#: Called with (articles read, articles in all, or None when unknown).
Progress = Callable[[int, int | None], None]


def backtest(
    simulation: Simulation,
    records: Iterable[tuple[float | None, bytes]],
    *,
    limit: int | None = None,
    total: int | None = None,
    progress: Progress | None = None,
) -> BacktestReport:
    """Feed ``records`` (time, encoded TaggedArticle) to ``simulation``; sends nothing.

    Stops after ``limit`` articles; calls ``progress`` after each record.
    An undecodable record is counted and skipped.
    """
    report = simulation.report
    for at, raw in records:
        if limit is not None and report.articles >= limit:
            break
        try:
            tagged = decode(raw, TaggedArticle)
        except DecodeError:
            report.undecodable += 1
        else:
            simulation.add(tagged, at)
        if progress is not None:
            progress(report.articles + report.undecodable, total)
    return report


def topic_records(
    bus: Bus, topic: str, *, idle_s: float = 1.0, join_s: float = 30.0
) -> Iterator[tuple[float | None, bytes]]:
    """Every record of ``topic``'s history as (publication time, value).

    Reads through a throw-away consumer group that never commits, so it
    neither moves nor disturbs the sink's own progress. A new group starts
    where the bus's ``auto_offset_reset`` puts it: ``bus`` must be opened with
    ``earliest``, or the history is skipped and nothing read.
    """
    consumer = bus.consumer([topic], f"monitor-backtest-{uuid.uuid4().hex[:8]}")
    joined_by = time.monotonic() + join_s
    try:
        while True:
            batch = consumer.poll(idle_s)
            if not batch:
                lag = consumer.lag()  # empty until the group has given us partitions
                if (lag and not any(lag.values())) or (not lag and time.monotonic() > joined_by):
                    return
                continue
            for record in batch:
                at = record.timestamp_ms / 1000 if record.timestamp_ms is not None else None
                yield at, record.value
    finally:
        consumer.close()


def replay(
    settings: Settings,
    bus: Bus,
    metrics: Metrics,
    clock: Clock,
    *,
    receiver: str | None = None,
    max_attempts: int | None = None,
    notifiers: dict[str, Notifier] | None = None,
    idle_s: float = 1.0,
) -> int:
    """Re-send every dead-lettered alert to the receiver that failed it (or ``receiver``).

    Reads the alerts dead-letter topic in its own consumer group and commits
    what it settles, so each dead letter is replayed once. An alert that
    fails again is dead-lettered again (a new record) for a later replay.
    Returns how many dead letters were settled.
    """
    alert_settings = settings.alerts
    if max_attempts is not None:
        alert_settings = alert_settings.model_copy(
            update={
                "retry": RetryBudget(
                    max_attempts=max_attempts,
                    max_elapsed_s=alert_settings.retry.max_elapsed_s,
                    backoff=alert_settings.retry.backoff,
                )
            }
        )
    chosen = notifiers if notifiers is not None else build_notifiers(alert_settings, clock)
    store = AlertStore.in_dir(settings.state_dir)
    engine = _engine(settings, alert_settings, bus, chosen, store, metrics, clock, receiver)
    try:
        return engine.drain(idle_s)
    finally:
        engine.close()
        store.close()


def _engine(
    settings: Settings,
    alert_settings: AlertSettings,
    bus: Bus,
    notifiers: dict[str, Notifier],
    store: AlertStore,
    metrics: Metrics,
    clock: Clock,
    receiver: str | None,
) -> DeliveryEngine:
    topics = settings.bus.topics
    return DeliveryEngine(
        consumer=bus.consumer([topics.alerts_deadletter], f"{settings.bus.groups.delivery}-replay"),
        producer=bus.producer(),
        notifiers=notifiers,
        store=store,
        settings=alert_settings,
        deadletter_topic=topics.alerts_deadletter,
        poison_topic=topics.deadletter,
        extract=deadletter_extractor(tuple(notifiers), iso_utc(clock.now() + 1), receiver),
        metrics=metrics,
        clock=clock,
        skip_statuses=frozenset({DELIVERED}),
    )
