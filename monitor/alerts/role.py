"""The stages the daemon runs for ``--roles alerts``.

* :class:`AlertRole` ("alerts") reads tagged articles from the statements
  topic, evaluates the rules on every statement and publishes each article's
  candidate alerts to the candidates topic (key: the story domain).
* :class:`StoryRole` ("stories") takes the one-alert-per-story decisions on
  state changelogged per partition (:mod:`monitor.bus.changelog`) and
  publishes to the alerts topic either, with ``notify: story`` (the default),
  the story's notification grouping every alert of the article
  (:mod:`monitor.alerts.grouping`; key = story id), or, with ``notify:
  statement``, each alert (key = alert id).
* :class:`DeliveryRole` ("delivery") reads the alerts topic and delivers each
  alert to every receiver (see :mod:`monitor.alerts.delivery`), its outcomes
  shared through a changelog too.

The decisions themselves are :mod:`monitor.alerts.sink`'s. Each stage has its
consumer group, so several processes share the work (docs/architecture.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from monitor.alerts.delivery import DeliveryEngine, topic_extractor
from monitor.alerts.delivery.records import DeliveryRecords
from monitor.alerts.lookup import Lookup, plain_lookup
from monitor.alerts.notifiers import HttpNotifier, Notifier
from monitor.alerts.rules import RuleSet, load_rules
from monitor.alerts.settings import AlertSettings, resolve_keys
from monitor.alerts.silences import silences_for
from monitor.alerts.sink import (
    PRUNE_INTERVAL_S,
    STORY_OUTCOMES,
    candidates_of,
    decide_article,
    policies,
    state_kept_s,
)
from monitor.alerts.state import StoryState
from monitor.alerts.store import AlertStore
from monitor.alerts.story import Decision, Policy
from monitor.bus.base import Record
from monitor.bus.changelog import PartitionStates
from monitor.bus.worker import Outgoing, StageWorker
from monitor.clock import Clock
from monitor.config import Settings
from monitor.db import StoreError
from monitor.errors import ConfigError, MonitorError
from monitor.messages import Alert, Candidates, TaggedArticle
from monitor.roles import Role, RoleContext

log = logging.getLogger(__name__)

#: How often the rules file's modification time is looked at.
RULES_CHECK_INTERVAL_S = 2.0


#: The key of every candidates record: the story domain. A story can span rules
#: (one notification groups an article's alerts of every rule) and outlets
#: (near-duplicate texts with different article ids), so no finer key keeps a
#: story's state in one partition: every candidate goes to one partition, whose
#: owner takes the decisions (in memory, a few milliseconds per alert-worthy
#: article) while rule matching and delivery are shared by all processes. See
#: docs/architecture.md, "State on Kafka".
STORY_DOMAIN = "stories"
#: The partition every candidates record is written to, whatever the topic's
#: partition count: the first, which the ranked-range assignment gives the process
#: with the least other work (:mod:`monitor.bus.assignor`).
STORY_PARTITION = 0


def alert_roles(ctx: RoleContext) -> list[Role]:
    """The stages started for ``--roles alerts``: rule matching, the story
    decisions and delivery."""
    return [AlertRole(ctx), StoryRole(ctx), DeliveryRole(ctx)]


class RulesWatcher:
    """Holds the current rules; reloads them when the file changes on disk.

    A broken new version is reported once and the previous rules stay in force.
    """

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self._clock = clock
        self.rules: RuleSet = load_rules(path)
        self._mtime = self._stat()
        self._checked = clock.monotonic()

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def maybe_reload(self) -> None:
        now = self._clock.monotonic()
        if now - self._checked < RULES_CHECK_INTERVAL_S:
            return
        self._checked = now
        mtime = self._stat()
        if mtime != self._mtime:
            self._mtime = mtime
            self.reload(self.path)

    def reload(self, path: Path) -> None:
        try:
            rules = load_rules(path)
        except ConfigError as exc:
            log.error("rules not reloaded, keeping %d current rules: %s", len(self.rules.rules),
                      exc)
            return
        self.path, self.rules = path, rules
        log.info("loaded %d rules from %s", len(rules.rules), path)


class AlertRole:
    """Statements in, each article's candidate alerts out (rule matching; no state)."""

    name = "alerts"

    def __init__(self, ctx: RoleContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        self._alerts = settings.alerts
        self._rules = RulesWatcher(settings.rules_file, ctx.clock)
        self._topic = settings.bus.topics.alerts_candidates
        self._worker = StageWorker(
            stage=self.name,
            consumer=ctx.bus.consumer([settings.bus.topics.statements],
                                      settings.bus.groups.alerts),
            producer=ctx.bus.producer(),
            kind=TaggedArticle,
            handle=self.handle,
            deadletter_topic=settings.bus.topics.deadletter,
            metrics=ctx.metrics,
            clock=ctx.clock,
            stall_after_s=settings.bus.stage_stall_after_s,
        )

    @property
    def rules(self) -> RuleSet:
        return self._rules.rules

    def handle(self, tagged: TaggedArticle) -> Iterator[Outgoing]:
        """An article's candidate alerts, keyed by their story domain; nothing when
        no rule holds for any of its statements."""
        if self._alerts.watch_rules:
            self._rules.maybe_reload()
        candidates = candidates_of(self._rules.rules, tagged, self._ctx.clock.now())
        if candidates:
            yield Outgoing(self._topic, STORY_DOMAIN, Candidates(tagged.article.id, candidates),
                           STORY_PARTITION)

    def run_once(self) -> int:
        return self._worker.drain()

    def run(self, stop: threading.Event) -> None:
        self._worker.run(stop)

    def reload(self, settings: Settings) -> None:
        self._alerts = settings.alerts
        self._rules.reload(settings.rules_file)

    def close(self) -> None:
        self._worker.close()


class StoryRole:
    """Candidate alerts in, story notifications (or single alerts) out: the story
    decisions, on state changelogged per partition (:mod:`monitor.bus.changelog`)."""

    name = "stories"

    def __init__(self, ctx: RoleContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        topics = settings.bus.topics
        self._alerts = settings.alerts
        self._rules = RulesWatcher(settings.rules_file, ctx.clock)
        self._policies = policies(self._alerts, self._rules.rules)
        self._policy_rules = self._rules.rules
        self._silences = silences_for(settings, ctx.bus, follow_group=settings.bus.groups.stories)
        self._topic = topics.alerts
        self._last_prune = ctx.clock.now()
        ctx.bus.ensure_compacted_topic(topics.alerts_state)
        producer = ctx.bus.producer()
        self._states: PartitionStates[StoryState] = PartitionStates(
            stage=self.name, bus=ctx.bus, producer=producer, changelog=topics.alerts_state,
            make=StoryState, metrics=ctx.metrics, coalesce=True,
        )
        self._worker: StageWorker[Candidates] = StageWorker(
            stage=self.name,
            consumer=ctx.bus.consumer([topics.alerts_candidates], settings.bus.groups.stories,
                                      self._states),
            producer=producer,
            kind=Candidates,
            handle=self.handle,
            deadletter_topic=topics.deadletter,
            metrics=ctx.metrics,
            clock=ctx.clock,
            stall_after_s=settings.bus.stage_stall_after_s,
            # A batch's state changes go out, the last per key, once its outputs are
            # flushed; a rewound batch's records are read again, so the memory
            # that went ahead of the changelog is rebuilt from it.
            settle=lambda _settled: self._states.flush(),
            rewound=self._states.invalidate,
            prepare=self.prepare,
            # The one partition of these decisions sets the pace of the alerts
            # role: read and score the next batch while the broker acknowledges
            # this one's outputs and changes.
            overlap=True,
            revocations=lambda: self._states.revocations,
        )
        #: Each partition's look-ups for the batch in hand, scored ahead.
        self._lookups: dict[int, Lookup] = {}

    def prepare(self, batch: Sequence[tuple[Record, Candidates]]) -> None:
        """Score the batch's story look-ups ahead, per partition, in calls that let
        the process's other threads run (:meth:`StoryState.scores_ahead`)."""
        now = self._ctx.clock.now()
        by_partition: dict[int, list[Alert]] = {}
        for record, candidates in batch:
            by_partition.setdefault(record.partition, []).extend(candidates.alerts)
        policy_of = self._policy_of()
        self._lookups = {
            partition: self._states.state(partition).scores_ahead(alerts, now, policy_of)
            for partition, alerts in by_partition.items()
        }

    def handle(self, candidates: Candidates) -> Iterator[Outgoing]:
        """What one article's candidates give: its story's notification (new, revised
        or replayed; nothing when nothing is new), or its alerts one by one."""
        record = self._worker.record
        assert record is not None  # the worker sets it before calling a handler
        state = self._states.state(record.partition)
        now = self._ctx.clock.now()
        self._maybe_prune(now)
        outcome = decide_article(state, self._policy_of(), self._alerts, candidates.article_id,
                                 candidates.alerts, self._silences.active(now), now,
                                 self._lookups.get(record.partition, plain_lookup))
        for candidate, decision in outcome.hits:
            self._count(candidate, decision)
        if self._alerts.notify == "statement":
            for alert in outcome.published:
                yield Outgoing(self._topic, alert.id, alert)
        group = outcome.group
        if group is not None:
            self._ctx.metrics.alert_stories.labels(STORY_OUTCOMES[group.action]).inc()
            if group.notification is not None:
                yield Outgoing(self._topic, group.notification.id, group.notification)

    def _policy_of(self) -> Callable[[str], Policy]:
        if self._alerts.watch_rules:
            self._rules.maybe_reload()
        if self._rules.rules is not self._policy_rules:
            self._policy_rules = self._rules.rules
            self._policies = policies(self._alerts, self._policy_rules)
        return self._policies

    def _count(self, candidate: Alert, decision: Decision) -> None:
        metrics = self._ctx.metrics
        if decision.action == "suppress":
            metrics.alerts_suppressed.labels(decision.reason or "unknown").inc()
        elif decision.action == "emit":
            metrics.alerts.labels(candidate.rule, candidate.severity).inc()
        elif decision.action == "update":
            metrics.alerts_suppressed.labels("merged_source").inc()

    def _maybe_prune(self, now: float) -> None:
        if now - self._last_prune < PRUNE_INTERVAL_S:
            return
        self._last_prune = now
        before = now - state_kept_s(self._alerts)
        for state in self._states.held().values():
            state.prune(before)
        self._states.report()
        try:
            self._silences.prune(before)
        except MonitorError as exc:  # upkeep waits for the next round
            log.warning("silences not pruned: %s", exc)

    def run_once(self) -> int:
        return self._worker.drain()

    def run(self, stop: threading.Event) -> None:
        self._worker.run(stop)

    def reload(self, settings: Settings) -> None:
        self._alerts = settings.alerts
        self._rules.reload(settings.rules_file)
        self._policy_rules = self._rules.rules
        self._policies = policies(self._alerts, self._policy_rules)

    def close(self) -> None:
        self._worker.close()
        self._silences.close()


def build_notifiers(settings: AlertSettings, clock: Clock) -> dict[str, Notifier]:
    """An HTTP notifier per configured receiver (raises ConfigError on a missing or
    malformed secret)."""
    return {
        receiver.name: HttpNotifier(receiver, resolve_keys(receiver, index), clock)
        for index, receiver in enumerate(settings.receivers)
    }


class DeliveryRole:
    """Alerts in, HTTP deliveries out."""

    name = "delivery"

    def __init__(self, ctx: RoleContext, *, notifiers: dict[str, Notifier] | None = None) -> None:
        self._ctx = ctx
        self._settings = ctx.settings
        self._store = AlertStore.in_dir(ctx.settings.state_dir)
        self._last_prune = 0.0
        self._engine = self._build(ctx.settings, notifiers)
        #: New settings handed over by reload(), adopted by the working thread.
        self._pending: Settings | None = None

    def _build(self, settings: Settings, notifiers: dict[str, Notifier] | None) -> DeliveryEngine:
        chosen = notifiers if notifiers is not None else build_notifiers(
            settings.alerts, self._ctx.clock
        )
        topics, bus = settings.bus.topics, self._ctx.bus
        bus.ensure_compacted_topic(topics.alerts_deliveries)
        producer = bus.producer()
        records: PartitionStates[DeliveryRecords] = PartitionStates(
            stage=self.name, bus=bus, producer=producer, changelog=topics.alerts_deliveries,
            make=DeliveryRecords, metrics=self._ctx.metrics,
        )
        self._records = records
        return DeliveryEngine(
            consumer=bus.consumer([topics.alerts], settings.bus.groups.delivery, records),
            producer=producer,
            notifiers=chosen,
            store=self._store,
            settings=settings.alerts,
            deadletter_topic=topics.alerts_deadletter,
            poison_topic=topics.deadletter,
            extract=topic_extractor(tuple(chosen)),
            metrics=self._ctx.metrics,
            clock=self._ctx.clock,
            records=records,
        )

    @property
    def store(self) -> AlertStore:
        return self._store

    def run_once(self, idle_s: float = 1.0) -> int:
        """Deliver what is available (see :meth:`DeliveryEngine.drain`).

        Alerts still waiting for a receiver stay uncommitted and are picked up
        by the next run.
        """
        self._adopt_pending()
        return self._engine.drain(idle_s)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._adopt_pending()
            self._engine.step(0.5)
            self._maybe_prune()
            if self._engine.in_flight:
                stop.wait(self._engine.wait_s(0.5))

    def reload(self, settings: Settings) -> None:
        """Adopt changed receivers or delivery policy (SIGHUP), on the working thread.

        The current engine finishes its running attempts and leaves the group
        without committing unsettled alerts; the new one reads them again and
        skips receivers already recorded as delivered. A receiver whose secret
        cannot be read is reported and the old settings stay. Secrets in files
        (``secret_file``) are read again even when the settings are unchanged,
        so a key file rotated in place takes effect on SIGHUP.
        """
        reads_files = any(r.secret_file is not None for r in settings.alerts.receivers)
        if settings.alerts != self._settings.alerts or reads_files:
            self._pending = settings

    def _adopt_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            engine = self._build(pending, None)
        except ConfigError as exc:
            log.error("delivery settings not reloaded: %s", exc)
            return
        self._engine.close()
        self._engine, self._settings = engine, pending
        log.info("delivery: %d receivers after reload", len(pending.alerts.receivers))

    def _maybe_prune(self) -> None:
        now = self._ctx.clock.now()
        if now - self._last_prune >= PRUNE_INTERVAL_S:
            self._last_prune = now
            # The shared records answer "does this receiver have it?" for a story
            # read again; the longest window a story is read again in bounds them.
            for shared in self._records.held().values():
                shared.prune(now - state_kept_s(self._settings.alerts))
            try:
                self._store.prune(now - self._settings.alerts.retention_days * 86400)
            except StoreError as exc:  # history upkeep waits for the next round
                log.warning("alert history not pruned: %s", exc)

    def close(self) -> None:
        self._engine.close()
        self._store.close()
