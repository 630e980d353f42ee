"""Delivering alerts from a topic to every receiver, never losing one.

Why not :class:`~monitor.bus.worker.StageWorker`: that loop settles a record
as soon as its handler returns and blocks the partition on a retryable
error. Delivery must keep an alert uncommitted while one receiver is down
for an hour, yet keep delivering later alerts to the receivers that are up.
So this engine keeps up to ``max_in_flight`` alerts in hand, tracks each
receiver's progress on each alert, and commits an offset only when that
alert and every earlier one of its partition are settled: delivered to
every receiver, or dead-lettered for the receivers that ran out of budget.

Retry timing is pure (:func:`~monitor.alerts.delivery.progress.next_attempt`),
the circuit breaker is pure (:mod:`~monitor.alerts.delivery.breaker`); this
module is the I/O shell around them, with three parts the engine composes and
drives (none of them calls back into it):
:class:`~monitor.alerts.delivery.receivers.Receivers` runs the calls and knows
when each receiver may be called,
:class:`~monitor.alerts.delivery.history.PendingHistory` keeps what the
history store cannot take while it is down, and
:class:`~monitor.alerts.delivery.deadletters.DeadLetterWriter` writes the
dead letters.
A killed process resumes from the last commit; receivers already recorded
as delivered in the history store are skipped, and for the narrow window
between a receiver's 2xx and that record, the ``Idempotency-Key`` lets the
receiver drop the repeat.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping

from monitor.alerts.deliverable import Deliverable, revision_of
from monitor.alerts.delivery.deadletters import DeadLetterWriter
from monitor.alerts.delivery.history import PendingHistory
from monitor.alerts.delivery.progress import (
    Extract,
    InFlight,
    Outcome,
    Progress,
    next_attempt,
    paced_until,
)
from monitor.alerts.delivery.receivers import Attempt, Receivers
from monitor.alerts.delivery.records import DeliveryRecords
from monitor.alerts.notifiers import Notifier, ReceiverUnavailable
from monitor.alerts.settings import AlertSettings
from monitor.alerts.store import DEADLETTERED, DELIVERED, AlertStore, Settled
from monitor.bus.base import Consumer, Producer, Record
from monitor.bus.changelog import PartitionStates
from monitor.clock import Clock, parse_iso
from monitor.errors import MonitorError, PoisonError, RetryableError
from monitor.ops.metrics import Metrics

# The package's name: delivery's log lines keep one logger, whichever module writes them.
log = logging.getLogger("monitor.alerts.delivery")

#: How long one step waits for a running attempt to finish before returning.
_ATTEMPT_WAIT_S = 0.05
#: The shortest poll the engine makes while it has alerts in hand, and how often it
#: polls at the least while attempts keep it busy. Polls keep the consumer in its
#: group; too short a poll cannot finish a group join (see KafkaBusConsumer.poll).
MIN_POLL_S = 0.1
POLL_EVERY_S = 1.0


class DeliveryEngine:
    """Consumes alert records and drives them to every receiver."""

    def __init__(
        self,
        *,
        consumer: Consumer,
        producer: Producer,
        notifiers: Mapping[str, Notifier],
        store: AlertStore,
        settings: AlertSettings,
        deadletter_topic: str,
        poison_topic: str,
        extract: Extract,
        metrics: Metrics,
        clock: Clock,
        rng: random.Random | None = None,
        skip_statuses: frozenset[str] = frozenset({DELIVERED, DEADLETTERED}),
        records: PartitionStates[DeliveryRecords] | None = None,
    ) -> None:
        """``skip_statuses``: receivers whose recorded status for an alert is one
        of these are not called again (replay passes only DELIVERED).

        ``records``: the outcomes shared through the delivery changelog, per
        partition of the consumer's topic (see :mod:`.records`); the consumer must
        have been made with it as its assignment listener. Without, only the
        local history says what a receiver has.

        A new alert is first sent ``settings.group_wait_s`` after it was raised,
        so that copies of the story from other outlets arriving meanwhile go
        out with it; :meth:`drain` reads a whole backlog at once and waits for
        nothing. A story's later revision goes to a receiver no sooner than
        ``settings.group_interval_s`` after the revision it last got, and only
        the newest revision in hand is sent (:func:`paced_until`)."""
        self._consumer = consumer
        self._producer = producer
        self._receivers = Receivers(notifiers, settings.breaker, settings.receiver_concurrency)
        self._store = store
        self._settings = settings
        self._letters = DeadLetterWriter(producer, deadletter_topic, poison_topic, metrics, clock)
        self._extract = extract
        self._metrics = metrics
        self._clock = clock
        self._rng = rng or random.Random()
        self._skip = skip_statuses
        self._records = records
        self._inflight: list[InFlight] = []
        self._history = PendingHistory(store, metrics, clock, self._rng)
        self._last_poll = float("-inf")

    @property
    def in_flight(self) -> int:
        """Alerts in hand that are still being worked on (deferred ones not counted),
        including records waiting for the store to admit them."""
        return self._history.records_waiting + sum(
            1 for item in self._inflight if not item.deferred
        )

    def step(self, poll_timeout_s: float) -> int:
        """Take new records if there is room, attempt what is due, commit what is settled.

        Returns how many records were committed.
        """
        return self._step(poll_timeout_s, self._settings.group_wait_s)

    def drain(self, idle_s: float = 1.0, join_s: float = 30.0) -> int:
        """Deliver what the topic holds now, then return how many records were committed.

        Returns once every assigned partition is read to its end and nothing is in
        hand, or when the alerts in hand are all waiting longer than ``idle_s``
        (a receiver that is down: they stay uncommitted for the next run). Waits
        up to ``join_s`` for the consumer to be given partitions at all. The whole
        backlog is read at once, so new alerts are not held for ``group_wait_s``.
        """
        total = 0
        joined_by = time.monotonic() + join_s
        while True:
            total += self._step(idle_s, 0.0)
            if self.in_flight == 0:
                caught_up = self.caught_up()
                if caught_up or (caught_up is None and time.monotonic() > joined_by):
                    return total
                continue
            wait = self.wait_s(idle_s + 0.01)
            if wait > idle_s:
                return total
            time.sleep(wait)

    def _step(self, poll_timeout_s: float, group_wait_s: float) -> int:
        self._admit_waiting(group_wait_s)
        if self._should_poll():
            room = self._settings.max_in_flight - len(self._inflight)
            timeout = poll_timeout_s
            if self._inflight:  # come back in time for what is due next
                timeout = min(poll_timeout_s, max(MIN_POLL_S, self.wait_s(poll_timeout_s)))
            self._last_poll = self._clock.monotonic()
            self._history.queue_records(self._consumer.poll(timeout, max_records=room))
            self._admit_waiting(group_wait_s)
        self._history.write_outcomes()
        self._collect(0.0)
        self._dispatch()
        self._collect(_ATTEMPT_WAIT_S)
        return self._commit_settled()

    def _should_poll(self) -> bool:
        """Poll when there is room, and either nothing can be done meanwhile (no
        attempt may start, and some receiver could take another call) or the last
        poll is :data:`POLL_EVERY_S` old (a busy engine still polls: that keeps it
        in its consumer group)."""
        if self._history.records_waiting or len(self._inflight) >= self._settings.max_in_flight:
            return False
        if self._clock.monotonic() - self._last_poll >= POLL_EVERY_S:
            return True
        return not self._work_ready()

    def _work_ready(self) -> bool:
        """Whether an attempt may start now, or every receiver has all the calls it
        may have running (new records could not be sent before one ends)."""
        now = self._clock.now()
        startable = any(
            p.next_at <= now and self._receivers.allows(name, now)
            and not self._receivers.busy(name)
            and not (item.alert is not None and self._receivers.calling(name, item.alert.id))
            for item in self._inflight for name, p in item.waiting.items()
        )
        return startable or (self._receivers.running and self._receivers.all_busy())

    def caught_up(self) -> bool | None:
        """Whether every assigned partition has been read to its end; None while this
        member has no partitions yet (a Kafka group join takes a few seconds)."""
        lag = self._consumer.lag()
        return None if not lag else not any(lag.values())

    def wait_s(self, cap_s: float) -> float:
        """How long nothing is due (for sleeping between steps), at most ``cap_s``."""
        now = self._clock.now()
        due = [
            max(p.next_at, self._receivers.free_at(name, now))
            for item in self._inflight for name, p in item.waiting.items()
            if not self._receivers.busy(name)
        ]
        if self._receivers.running:
            due.append(now)  # an attempt is running: come back to collect it
        retry_at = self._history.retry_at
        if retry_at is not None:  # records or outcomes wait for the store
            due.append(retry_at)
        return max(0.0, min([cap_s, *(d - now for d in due)]))

    def close(self) -> None:
        """Finish attempts in progress (their outcome is recorded), then release."""
        while self._receivers.running:
            self._collect(_ATTEMPT_WAIT_S)
        self._receivers.close()
        self._consumer.close()  # leave the group: uncommitted alerts go to another member
        self._producer.close()

    # -- admission ------------------------------------------------------------
    def _admit_waiting(self, group_wait_s: float) -> None:
        """Admit the records the history holds, in order, until the store refuses one."""
        while (record := self._history.next_record()) is not None:
            try:
                self._admit(record, group_wait_s)
            except RetryableError as exc:  # the history store, or the changelog restore
                self._history.refused(exc)
                return
            self._history.admitted()

    def _admit(self, record: Record, group_wait_s: float) -> None:
        """Take a record in hand; raises StoreError (and takes nothing) if the store
        cannot record it."""
        try:
            extracted = self._extract(record)
        except PoisonError as exc:
            self._letters.poison(record, exc)
            self._inflight.append(InFlight(record, None))
            return
        if extracted is None:  # left for a later run
            self._inflight.append(InFlight(record, None, deferred=True))
            return
        alert, wanted = extracted
        now = self._clock.now()
        alert = self._store.record(alert, now)
        done = {r for r in wanted if self._done(alert, r, record.partition)}
        hold_until = 0.0
        if group_wait_s:  # capped, so a producer's clock running ahead costs nothing
            created = parse_iso(alert.created_at)
            hold_until = min(created if created is not None else now, now) + group_wait_s
        waiting = {
            name: Progress(next_at=hold_until) for name in wanted
            if name in self._receivers and name not in done
        }
        for name in wanted:
            if name in done:
                self._metrics.deliveries.labels(name, "already_done").inc()
        self._inflight.append(InFlight(record, alert, waiting))

    # -- attempts -------------------------------------------------------------
    def _dispatch(self) -> None:
        """Start the next due attempt for every receiver that is not busy.

        Receivers are called in parallel (a slow one does not hold up the
        others), each with up to ``receiver_concurrency`` calls for different
        alerts, started in alert order; a receiver whose last call failed gets
        one call at a time, so it is never hit by a burst of parallel retries;
        an alert is never sent to a receiver while a call for it is running.
        """
        for index, item in enumerate(self._inflight):
            if item.alert is None:
                continue
            for name in list(item.waiting):
                if self._receivers.busy(name) or not self._history.usable():
                    continue
                try:
                    due = self._due(item, item.alert, name, index)
                except RetryableError as exc:
                    self._history.refused(exc)
                    return
                if due:
                    self._start(item, item.alert, name)

    def _settled(self, alert_id: str, name: str, partition: int) -> Settled | None:
        """The receiver's newest known outcome for ``alert_id``: this run's, the
        local history's or, with shared records, the changelog's; raises StoreError
        when the history cannot be read."""
        local = self._history.settled(alert_id, name)
        if self._records is None:
            return local
        shared = self._records.state(partition).settled(alert_id, name)
        known = [s for s in (local, shared) if s is not None]
        return max(known, key=lambda s: (s.revision, s.at)) if known else None

    def _record(self, item: InFlight, outcome: Outcome) -> None:
        """Write ``outcome`` to the history and, when shared, the changelog."""
        self._history.record(outcome)
        if self._records is None:
            return
        try:
            self._records.state(item.record.partition).record(outcome)
        except RetryableError as exc:  # a new owner may call the receiver again: it dedups
            log.warning("delivery record of %s not shared: %s", outcome.alert_id, exc)

    def _done(self, alert: Deliverable, name: str, partition: int) -> bool:
        """Whether the receiver already has this revision (or a newer one) or gave
        up on it; raises StoreError when the history cannot be read."""
        settled = self._settled(alert.id, name, partition)
        return (settled is not None and settled.status in self._skip
                and settled.revision >= revision_of(alert))

    def _paced(self, item: InFlight, alert: Deliverable, name: str, now: float) -> bool:
        """Hold a later revision until ``group_interval_s`` after the last one the
        receiver got; True while it is held."""
        settled = self._settled(alert.id, name, item.record.partition)
        if settled is None or settled.status != DELIVERED:
            return False
        until = paced_until(revision_of(alert), settled.revision, settled.at,
                            self._settings.group_interval_s)
        if until <= now:
            return False
        item.waiting[name].next_at = until
        return True

    def _due(self, item: InFlight, alert: Deliverable, name: str, index: int) -> bool:
        now = self._clock.now()
        if item.waiting[name].next_at > now or not self._receivers.allows(name, now):
            return False
        if self._receivers.calling(name, alert.id):  # this or another revision is on its way
            return False
        # A later revision of the same alert (a late source's update) is in hand:
        # it carries everything this one does, so only it is sent.
        if any(e.alert is not None and e.alert.id == alert.id and name in e.waiting
               for e in self._inflight[index + 1:]):
            self._metrics.deliveries.labels(name, "superseded").inc()
            del item.waiting[name]
            return False
        if self._done(alert, name, item.record.partition):
            self._metrics.deliveries.labels(name, "already_done").inc()
            del item.waiting[name]
            return False
        return not self._paced(item, alert, name, now)

    def _start(self, item: InFlight, alert: Deliverable, name: str) -> None:
        now = self._clock.now()
        progress = item.waiting[name]
        if progress.first_attempt is None:
            progress.first_attempt = now
        progress.attempts += 1
        self._receivers.start(name, now, item, alert, progress)

    def _collect(self, block_s: float) -> None:
        """Apply the outcome of finished attempts, waiting up to ``block_s`` for one."""
        for name, attempt in self._receivers.finished(block_s):
            error, seconds = attempt.future.result()
            self._apply(attempt, name, error, seconds)

    def _apply(self, attempt: Attempt, name: str, error: MonitorError | None,
               seconds: float) -> None:
        item, alert, progress = attempt.item, attempt.alert, attempt.progress
        now = self._clock.now()
        if error is None:
            self._metrics.delivery_seconds.labels(name).observe(seconds)
            self._metrics.deliveries.labels(name, "delivered").inc()
            self._receivers.answered(name)
            self._record(item, Outcome(alert.id, name, DELIVERED, progress.attempts, "", now,
                                       revision_of(alert)))
            item.waiting.pop(name, None)
            fetched = parse_iso(alert.article.fetched_at) if alert.article.fetched_at else None
            if fetched is not None:
                self._metrics.end_to_end_seconds.observe(max(0.0, now - fetched))
            return
        if not isinstance(error, ReceiverUnavailable):
            self._metrics.deliveries.labels(name, "rejected").inc()
            self._receivers.answered(name)  # it answered
            self._give_up(item, alert, name, progress, error)
            return
        self._metrics.deliveries.labels(name, error.outcome).inc()
        # A requested pause (Retry-After) holds all the receiver's alerts, not just this one.
        self._receivers.unavailable(name, now, error.retry_after)
        when = next_attempt(progress, now, self._settings.retry, self._rng, error.retry_after)
        if when is None:
            self._give_up(item, alert, name, progress, error)
            return
        progress.next_at = when
        log.warning("alert %s → %s failed (%s); next attempt in %.1fs", alert.id, name, error,
                 when - now)

    def _give_up(
        self, item: InFlight, alert: Deliverable, name: str, progress: Progress, exc: MonitorError
    ) -> None:
        """Dead-letter the alert for this receiver; ``monitor alerts replay`` re-sends it."""
        reason = f"receiver {name}: {exc} (after {progress.attempts} attempts)"
        self._letters.receiver_failed(item.record, alert, name, reason, exc)
        self._record(item, Outcome(alert.id, name, DEADLETTERED, progress.attempts, reason,
                                     self._clock.now(), revision_of(alert)))
        log.warning("dead-lettered alert %s: %s", alert.id, reason)
        del item.waiting[name]

    # -- commits --------------------------------------------------------------
    def _commit_settled(self) -> int:
        """Commit, per partition, the settled records that precede any unsettled one."""
        blocked: set[tuple[str, int]] = set()
        settled: list[InFlight] = []
        for item in self._inflight:
            partition = (item.record.topic, item.record.partition)
            if item.waiting or item.deferred or partition in blocked:
                blocked.add(partition)
                continue
            settled.append(item)
        if not settled:
            return 0
        self._producer.flush()  # dead letters must be safe before the offsets move
        self._consumer.commit([item.record for item in settled])
        done = {id(item) for item in settled}
        self._inflight = [item for item in self._inflight if id(item) not in done]
        self._metrics.messages.labels("delivery", "handled").inc(len(settled))
        return len(settled)

