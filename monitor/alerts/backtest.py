"""Backtest and replay: the alert tools that read topic history.

Both are plain functions of (settings, bus) so tests can call them on the
embedded bus; :mod:`monitor.alerts.commands` wraps them for the CLI.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from monitor.alerts.delivery import DeliveryEngine, deadletter_extractor
from monitor.alerts.matching import evaluate
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
from monitor.messages import TaggedArticle
from monitor.ops.metrics import Metrics


@dataclass
class BacktestReport:
    """Per-rule hit counts over the statements read, with a few samples each."""

    articles: int = 0
    statements: int = 0
    undecodable: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)


def backtest(
    rules: RuleSet, bus: Bus, topic: str, *, samples: int = 3, idle_s: float = 1.0,
    limit: int | None = None, join_s: float = 30.0,
) -> BacktestReport:
    """Evaluate ``rules`` on every statement in ``topic``'s history; send nothing.

    Reads through a throw-away consumer group that never commits, so it
    neither moves nor disturbs the sink's own progress. A new group starts
    where the bus's ``auto_offset_reset`` puts it: ``bus`` must be opened with
    ``earliest`` (the default), or the history is skipped and nothing counted.
    """
    consumer = bus.consumer([topic], f"monitor-backtest-{uuid.uuid4().hex[:8]}")
    report = BacktestReport(hits=Counter({rule.name: 0 for rule in rules.rules}))
    joined_by = time.monotonic() + join_s
    try:
        while limit is None or report.articles < limit:
            batch = consumer.poll(idle_s)
            if not batch:
                lag = consumer.lag()  # empty until the group has given us partitions
                if (lag and not any(lag.values())) or (not lag and time.monotonic() > joined_by):
                    break
                continue
            for record in batch:
                try:
                    tagged = decode(record.value, TaggedArticle)
                except DecodeError:
                    report.undecodable += 1
                    continue
                report.articles += 1
                _count(rules, tagged, report, samples)
    finally:
        consumer.close()
    return report


def _count(rules: RuleSet, tagged: TaggedArticle, report: BacktestReport, samples: int) -> None:
    for statement in tagged.statements:
        report.statements += 1
        for hit in evaluate(rules, statement, tagged.article):
            report.hits[hit.rule.name] += 1
            kept = report.samples.setdefault(hit.rule.name, [])
            if len(kept) < samples:
                kept.append(f"{statement.text} <{tagged.article.url}>")


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
        alert_settings = alert_settings.model_copy(update={
            "retry": RetryBudget(max_attempts=max_attempts,
                                 max_elapsed_s=alert_settings.retry.max_elapsed_s,
                                 backoff=alert_settings.retry.backoff)
        })
    chosen = notifiers if notifiers is not None else build_notifiers(alert_settings, clock)
    store = AlertStore.in_dir(settings.state_dir)
    engine = _engine(settings, alert_settings, bus, chosen, store, metrics, clock, receiver)
    try:
        return engine.drain(idle_s)
    finally:
        engine.close()
        store.close()


def _engine(
    settings: Settings, alert_settings: AlertSettings, bus: Bus,
    notifiers: dict[str, Notifier], store: AlertStore, metrics: Metrics, clock: Clock,
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
