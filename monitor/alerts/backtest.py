"""Backtest and replay: the alert tools that read statement and alert history.

:func:`backtest` runs rules over tagged articles from one of two places and
sends nothing: the local statement history the NLP stage records
(:mod:`monitor.nlp.history`, what an embedded install has) or the statements
topic of a Kafka bus (:func:`topic_records`). :class:`Simulation` counts, per
rule, the statements it fires on, the stories and the notifications the alert
sink would send, with a few examples.

It takes the sink's own decisions, not a copy of them: each article goes
through :func:`monitor.alerts.sink.sink_article` (per-statement decisions —
silences, rate limits, syndicated copies — by :func:`monitor.alerts.story.decide`,
then the story's grouping by :func:`monitor.alerts.grouping.regroup`) on a
throw-away :class:`~monitor.alerts.state.StoryState` without changelog, at the time the
article was recorded (or published on the topic). What the sink publishes is
then paced as delivery paces it for one receiver: a story's first revision
goes at once (or ``group_wait_s`` after it was raised), a later one no sooner
than ``group_interval_s`` after the last one sent
(:func:`~monitor.alerts.delivery.progress.paced_until`), and of the revisions
waiting meanwhile only the newest is sent; a revision the receiver has is not
sent again. A rule is counted in a notification when one of its alerts
brought new material (emitted or updated) to it. With ``notify: statement``
every alert is a story of its own and is sent once. Silences are those of the
throw-away state: none.

``replay`` re-sends dead-lettered alerts. Both are plain functions so tests
can call them on the embedded bus; :mod:`monitor.alerts.commands` wraps them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from monitor.alerts.deliverable import Deliverable, revision_of
from monitor.alerts.delivery import DeliveryEngine, deadletter_extractor
from monitor.alerts.delivery.progress import paced_until
from monitor.alerts.notifiers import Notifier
from monitor.alerts.role import build_notifiers
from monitor.alerts.rules import RuleSet
from monitor.alerts.settings import AlertSettings, RetryBudget
from monitor.alerts.sink import PRUNE_INTERVAL_S, sink_article, state_kept_s
from monitor.alerts.state import StoryState
from monitor.alerts.store import DELIVERED, AlertStore
from monitor.bus.base import Bus
from monitor.bus.codec import decode
from monitor.clock import Clock, iso_utc, parse_iso
from monitor.config import Settings
from monitor.errors import DecodeError
from monitor.messages import TaggedArticle
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
class _Receiving:
    """What the receiver has had of one story (or alert) and what waits for it."""

    sent_revision: int | None = None
    sent_at: float | None = None
    waiting: int | None = None
    due: float = 0.0
    #: Rules that brought new material since the last send, credited with the next.
    credits: set[str] = field(default_factory=set)


class Simulation:
    """Feeds tagged articles, oldest first, through the sink's decisions (see
    module docstring); sends nothing. :meth:`finish` ends it."""

    def __init__(
        self, rules: RuleSet, settings: AlertSettings | None = None, *, samples: int = 3
    ) -> None:
        self._rules = rules
        self._settings = settings if settings is not None else AlertSettings()
        self._samples = samples
        self._state = StoryState()
        self._receiving: dict[str, _Receiving] = {}
        self._now = 0.0
        self._last_prune = float("-inf")
        self.report = BacktestReport(rules={r.name: RuleCount() for r in rules.rules})

    def add(self, tagged: TaggedArticle, at: float | None) -> None:
        """One tagged article, recorded (or published) at ``at`` (None: unknown, taken
        to be the time of the article before it)."""
        now = self._now = at if at is not None else self._now
        if now - self._last_prune >= PRUNE_INTERVAL_S:
            self._last_prune = now
            self._state.prune(now - state_kept_s(self._settings))
        report = self.report
        report.articles += 1
        report.statements += len(tagged.statements)
        outcome = sink_article(self._state, self._rules, self._settings, tagged, now)
        bringing: set[str] = set()
        for candidate, decision in outcome.hits:
            count = report.rules[candidate.rule]
            count.statements += 1
            if len(count.examples) < self._samples:
                words = tuple(dict.fromkeys(m.text for m in candidate.matches))
                count.examples.append(Example(candidate.statement.text, tagged.article.url,
                                              words))
            if decision.action in ("emit", "update"):
                bringing.add(candidate.rule)
        if self._settings.notify == "statement":
            for alert in outcome.published:
                self._story(alert, (alert.rule,))
                self._deliver(alert, {alert.rule} & bringing, now)
        elif outcome.group is not None and outcome.group.notification is not None:
            notification = outcome.group.notification
            self._story(notification, notification.rules)
            self._deliver(notification, bringing, now)

    def finish(self) -> BacktestReport:
        """Send what still waits for its time and forget the throw-away state."""
        for receiving in self._receiving.values():
            self._flush(receiving, float("inf"))
        self._receiving.clear()
        return self.report

    def _story(self, item: Deliverable, rules: Iterable[str]) -> None:
        if item.id not in self._receiving:
            self.report.stories += 1
        for name in rules:
            if name in self.report.rules:
                self.report.rules[name].stories.add(item.id)

    def _deliver(self, item: Deliverable, bringing: set[str], now: float) -> None:
        """What delivery does with ``item`` published at ``now`` (see module docstring)."""
        receiving = self._receiving.setdefault(item.id, _Receiving())
        self._flush(receiving, now)
        revision = revision_of(item)
        if receiving.sent_revision is not None and revision <= receiving.sent_revision:
            return  # the receiver has it
        receiving.credits |= bringing
        due = paced_until(revision, receiving.sent_revision, receiving.sent_at,
                          self._settings.group_interval_s)
        wait = self._settings.group_wait_s
        if wait and receiving.sent_revision is None:
            created = parse_iso(item.created_at)
            due = max(due, min(created if created is not None else now, now) + wait)
        if due <= now:
            self._send(receiving, revision, now)
        else:  # held; a later revision arriving meanwhile is sent instead
            receiving.waiting, receiving.due = revision, due

    def _flush(self, receiving: _Receiving, now: float) -> None:
        if receiving.waiting is not None and receiving.due <= now:
            self._send(receiving, receiving.waiting, receiving.due)

    def _send(self, receiving: _Receiving, revision: int, at: float) -> None:
        receiving.sent_revision, receiving.sent_at, receiving.waiting = revision, at, None
        self.report.notifications += 1
        for name in receiving.credits:
            self.report.rules[name].notifications += 1
        receiving.credits = set()


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
    """Feed ``records`` (time, encoded TaggedArticle) to ``simulation``, then
    finish it; sends nothing.

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
    return simulation.finish()


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
