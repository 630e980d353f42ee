"""The consume → decode → handle → produce → commit loop every bus stage shares.

Guarantees (at-least-once, nothing lost):

* A record is committed only after its outputs are flushed to the bus, so a
  crash at any point means the record is read again, never skipped.
* A record that cannot be decoded, or whose handler raises a poison or
  permanent error (or an unexpected exception: a bug must not stop the
  stream), goes to the dead-letter topic with the reason, and the stage
  carries on with the next record.
* A retryable error rewinds the partition to the failed record and backs
  off; records before it in the batch are still committed.
* A stage whose state changes must not get ahead of its outputs (the poller's
  publisher: a changelog entry saying an article was published) writes them
  in ``settle``, called with the settled records after their outputs are
  flushed and before the commit (what it writes is flushed too); ``rewound``
  tells it a batch was rewound after a failure, so state it changed for records
  that will be read again must be rebuilt.
* A stage that can do the work of a whole batch better at once (the story
  decisions score a batch's look-ups in one call) is given the batch's
  decoded messages in ``prepare`` before any is handled; what it prepares
  must not change what the handler decides, only how fast.
* A stage run with ``overlap`` (the story decisions, whose one partition sets
  the pace of the alerts role) does not wait for a batch's acknowledgements
  before it reads the next: it polls and prepares batch *k* while the broker
  acknowledges batch *k-1*'s outputs, then, with one flush, sends *k-1*'s
  ``settle`` changes and commits *k-2* (whose outputs and changes that flush
  acknowledged), and only then handles *k*. The guarantees above still hold
  (a record is committed after its outputs and its changes are acknowledged;
  changes are sent after the outputs they follow); records are committed two
  batches later, and a failure rewinds every record not yet committed. An
  empty poll, a retryable failure and the end of :meth:`StageWorker.run`
  settle everything in flight at once.
* A stage whose state is dropped when its partitions are taken away (state
  kept per partition, :mod:`monitor.bus.changelog`) passes ``revocations``, a
  count of those events: records handled before one are not committed (the
  broker accepts a commit from a member of the group whatever it holds, and
  their unsent changes went with the state), but read again, by this process
  or the partition's new owner.

A watchdog runs with the loop: when the consumer has records waiting (its
lag) and no poll has returned any for ``stall_after_s`` seconds (config
``bus.stage_stall_after_s``, default 120), the stage is stalled. It is
reported (``monitor_stage_stalled`` and ``monitor_stage_stalls_total``, an
error log line, a ``/readyz`` reason) and
:meth:`StageWorker.run` raises :class:`StageStalled`: the daemon's
supervisor then closes the role and builds it again, which re-creates the
consumer and re-joins its group (see docs/reliability.md, "Stage watchdog").
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from monitor.bus.base import Consumer, Producer, Record
from monitor.bus.codec import decode, encode
from monitor.bus.settings import STAGE_STALL_AFTER_S
from monitor.clock import Clock, iso_utc
from monitor.errors import MonitorError, RetryableError
from monitor.messages import Alert, Article, Candidates, DeadLetter, Message, TaggedArticle
from monitor.ops.metrics import Metrics
from monitor.retry import BackoffPolicy, backoff_delay
from monitor.roles import ARTICLE_KEYED_STAGES

log = logging.getLogger(__name__)

M = TypeVar("M", Article, TaggedArticle, Alert, DeadLetter, Candidates)

#: Seconds between consumer-lag reports (and watchdog checks) while running.
LAG_REPORT_S = 10.0
#: The default stall time (config ``bus.stage_stall_after_s``; see its reasons there).
STALL_AFTER_S = STAGE_STALL_AFTER_S


class StageStalled(RetryableError):
    """A stage's consumer has records waiting and reads none; it must be re-created."""

    reason = "stalled"


def is_stalled(*, now: float, last_read: float, waiting: int, stall_after_s: float) -> bool:
    """The watchdog's decision: records wait and none were read for ``stall_after_s``."""
    return waiting > 0 and now - last_read >= stall_after_s
#: How much of a bad record's value the dead-letter record keeps.
DEADLETTER_VALUE_CAP = 64 * 1024


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message a handler wants published."""

    topic: str
    key: str | None
    message: Message
    #: The partition to write to; None: the one the key hashes to.
    partition: int | None = None


Handler = Callable[[M], Iterable[Outgoing]]
#: Called with the settled records of a batch once their outputs are flushed.
Settle = Callable[[Sequence[Record]], None]
#: Called with a batch's records and their decoded messages before any is handled
#: (records that do not decode are left out: they are dead-lettered in their turn).
Prepare = Callable[[Sequence[tuple[Record, M]]], None]


class StageWorker(Generic[M]):
    """Runs one stage's handler over a consumer, with the guarantees above."""

    def __init__(
        self,
        *,
        stage: str,
        consumer: Consumer,
        producer: Producer,
        kind: type[M],
        handle: Handler[M],
        deadletter_topic: str,
        metrics: Metrics,
        clock: Clock,
        backoff: BackoffPolicy | None = None,
        poll_timeout_s: float = 0.5,
        rng: random.Random | None = None,
        stall_after_s: float = STALL_AFTER_S,
        lag_report_s: float = LAG_REPORT_S,
        settle: Settle | None = None,
        rewound: Callable[[], None] | None = None,
        prepare: Prepare[M] | None = None,
        overlap: bool = False,
        revocations: Callable[[], int] | None = None,
    ) -> None:
        self.stage = stage
        self._consumer = consumer
        self._producer = producer
        self._kind: type[M] = kind
        self._handle: Handler[M] = handle
        self._deadletter_topic = deadletter_topic
        self._metrics = metrics
        self._clock = clock
        self._backoff = backoff or BackoffPolicy(base_s=0.5, cap_s=30.0)
        self._poll_timeout_s = poll_timeout_s
        self._rng = rng or random.Random()
        self._attempt = 0
        self._stall_after_s = stall_after_s
        self._lag_report_s = lag_report_s
        self._settle = settle
        self._rewound = rewound
        self._prepare: Prepare[M] | None = prepare
        self._overlap = overlap
        #: In flight with ``overlap``: records whose outputs were sent (their changes
        #: not yet), and records whose changes were sent too, not yet committed.
        self._handled: list[Record] = []
        self._journalled: list[Record] = []
        self._revocations = revocations
        #: ``revocations`` when the records in flight began to be handled.
        self._flight_epoch = revocations() if revocations is not None else 0
        #: Monotonic time of the last poll that returned records (or found none waiting).
        self._last_read = clock.monotonic()
        #: Seconds to wait before polling again after a retryable failure.
        self.pause_s = 0.0
        #: The record being handled, for handlers whose state is kept per partition.
        self.record: Record | None = None

    def run_once(self, timeout_s: float | None = None) -> int:
        """Poll one batch and handle it; return how many records were settled
        (with ``overlap``: handled, to be settled with the next batches)."""
        batch = self._consumer.poll(self._poll_timeout_s if timeout_s is None else timeout_s)
        if batch:
            self._read_something()
        if self._overlap:
            return self._overlapped(batch)
        return self.handle_batch(batch)

    def handle_batch(self, batch: Sequence[Record]) -> int:
        """Handle records in order, stopping at the first retryable failure, and
        settle them before returning (records in flight from overlapped runs first).

        On a retryable failure every partition with unhandled records in the
        batch is rewound to its first unhandled record, so nothing after the
        failure is skipped by the next commit. If the flush or commit of the
        handled records fails, the whole batch is rewound and read again
        (its outputs may then be published twice: at-least-once). The ``settle``
        hook runs between the flush and the commit; the ``rewound`` hook after
        any rewind, once the settled records are settled.
        """
        if not self._settle_in_flight(batch):
            return 0
        self.pause_s = 0.0
        decoded = self._prepared(batch) if self._prepare is not None and batch else {}
        self._flight_epoch = self._epoch()
        self._handled, rewound = self._handle_records(batch, decoded)
        settled = len(self._handled)
        if not self._settle_in_flight(batch):
            return 0
        if rewound:
            self._after_rewind()
        return settled

    def _overlapped(self, batch: Sequence[Record]) -> int:
        """One step of the ``overlap`` pipeline (see the module docstring): prepare
        ``batch`` while the previous one is acknowledged, move the records in flight
        on, then handle ``batch``. An empty poll settles everything in flight."""
        if not batch:
            self._settle_in_flight(())
            return 0
        self.pause_s = 0.0
        decoded = self._prepared(batch) if self._prepare is not None else {}
        if not self._advance(batch):
            return 0
        if not (self._handled or self._journalled):
            self._flight_epoch = self._epoch()
        handled, rewound = self._handle_records(batch, decoded)
        self._handled = handled
        if rewound and self._settle_in_flight(batch):
            self._after_rewind()
        return len(handled)

    def _handle_records(self, batch: Sequence[Record], decoded: dict[int, M]
                        ) -> tuple[list[Record], bool]:
        """Handle ``batch`` in order up to the first retryable failure (whose record
        and followers are rewound); the records handled, and whether it failed."""
        handled: list[Record] = []
        for index, record in enumerate(batch):
            try:
                self._handle_record(record, decoded.get(index))
            except RetryableError as exc:
                self._retry_later(batch[index:], exc)
                return handled, True
            handled.append(record)
        return handled, False

    def _advance(self, unhandled: Sequence[Record]) -> bool:
        """With ``overlap``: one flush acknowledges the outputs of the records
        handled last and the changes of those before; the latter are committed,
        the former's changes sent (``settle``; without it they are committed too).
        On a retryable failure everything not committed, ``unhandled`` included,
        is rewound and False returned."""
        if self._revoked_in_flight(unhandled):
            return False
        try:
            self._producer.flush()
            self._consumer.commit(self._journalled)
            self._journalled = []
            if self._settle is None:
                self._consumer.commit(self._handled)
            elif self._handled:
                self._settle(self._handled)
                self._journalled = self._handled
            self._handled = []
        except RetryableError as exc:
            self._rewind_in_flight(unhandled, exc)
            return False
        self._attempt = 0
        return True

    def _settle_in_flight(self, unhandled: Sequence[Record]) -> bool:
        """Flush, settle and commit every record in flight now. On a retryable
        failure they are rewound with ``unhandled`` and False returned."""
        if not (self._handled or self._journalled):
            return True
        if self._revoked_in_flight(unhandled):
            return False
        try:
            self._producer.flush()
            if self._handled and self._settle is not None:
                self._settle(self._handled)
                self._producer.flush()
            self._consumer.commit([*self._journalled, *self._handled])
        except RetryableError as exc:
            self._rewind_in_flight(unhandled, exc)
            return False
        self._journalled, self._handled = [], []
        self._attempt = 0
        return True

    def _epoch(self) -> int:
        return self._revocations() if self._revocations is not None else 0

    def _revoked_in_flight(self, unhandled: Sequence[Record]) -> bool:
        """Whether partitions were taken away since the records in flight began to
        be handled; if so they are not committed but read again, with ``unhandled``
        (each partition rewound to its oldest; the state rebuilt by ``rewound``)."""
        if self._epoch() == self._flight_epoch:
            return False
        self._rewind_in_flight(unhandled, None)
        return True

    def _rewind_in_flight(self, unhandled: Sequence[Record],
                          exc: RetryableError | None) -> None:
        """Rewind every record not committed (in flight, then ``unhandled``): each
        partition to its oldest; the stage's state is rebuilt (``rewound``). With
        ``exc`` it is a retry (counted, after a pause); without, partitions were
        reassigned."""
        in_flight = [*self._journalled, *self._handled, *unhandled]
        self._journalled, self._handled = [], []
        if exc is None:
            self._rewind(in_flight)
            log.info("stage %s: partitions were reassigned; %d records not committed are "
                     "read again", self.stage, len(in_flight), extra={"stage": self.stage})
        elif in_flight:
            self._retry_later(in_flight, exc)
        self._flight_epoch = self._epoch()
        self._after_rewind()

    def _prepared(self, batch: Sequence[Record]) -> dict[int, M]:
        """The batch's messages decoded, by position, once ``prepare`` has seen them.

        ``prepare`` only speeds the handlers up, so its failure is logged and the
        batch is handled without it."""
        decoded: dict[int, M] = {}
        for index, record in enumerate(batch):
            try:
                decoded[index] = decode(record.value, self._kind)
            except MonitorError:
                continue
        assert self._prepare is not None
        try:
            self._prepare([(batch[index], message) for index, message in decoded.items()])
        except Exception:  # an optimisation must not stop the stream
            log.exception("stage %s: preparing a batch failed; handling it without", self.stage)
        return decoded

    def _after_rewind(self) -> None:
        if self._rewound is not None:
            self._rewound()

    def drain(self, idle_s: float = 1.0) -> int:
        """Handle records until a poll of ``idle_s`` finds nothing; for ``--once``."""
        total = 0
        while True:
            batch = self._consumer.poll(idle_s)
            if not batch:
                return total
            total += self.handle_batch(batch)
            if self.pause_s:
                threading.Event().wait(self.pause_s)

    def run(self, stop: threading.Event) -> None:
        """Handle records until ``stop`` is set; the batch in hand is finished first.

        Consumer lag is reported every ``lag_report_s`` seconds and at stop,
        for the lag gauge, ``/readyz`` and the status page; the watchdog
        checks it then and raises :class:`StageStalled` on a stall.
        """
        self._last_read = self._clock.monotonic()
        next_report = self._last_read
        while not stop.is_set():
            self.run_once()
            if self._clock.monotonic() >= next_report:
                self._watch(self._report_lag())
                next_report = self._clock.monotonic() + self._lag_report_s
            if self.pause_s:
                stop.wait(self.pause_s)
        self._settle_in_flight(())
        self._report_lag()

    def close(self) -> None:
        self._consumer.close()

    # -- one record ---------------------------------------------------------
    def _handle_record(self, record: Record, message: M | None = None) -> None:
        self.record = record
        try:
            if message is None:
                message = decode(record.value, self._kind)
            outgoing = list(self._handle(message))
        except RetryableError:
            raise
        except MonitorError as exc:
            self._dead_letter(record, str(exc), exc.kind, exc.reason)
            return
        except Exception as exc:  # a bug must not stop the stream: keep the record
            log.exception("stage %s: unexpected error on %s", self.stage, _where(record),
                          extra=self._context(record))
            self._dead_letter(record, f"internal: {type(exc).__name__}: {exc}", "poison", "bug")
            return
        try:
            for item in outgoing:
                self._producer.send(item.topic, item.key, encode(item.message),
                                    partition=item.partition)
        except RetryableError:
            raise
        except MonitorError as exc:  # e.g. the output is larger than the broker accepts
            self._dead_letter(record, f"output refused: {exc}", exc.kind, exc.reason)
            return
        self._metrics.messages.labels(self.stage, "handled").inc()

    def _dead_letter(self, record: Record, reason: str, kind: str, reason_label: str) -> None:
        letter = DeadLetter(
            topic=record.topic,
            key=record.key,
            value=record.value[:DEADLETTER_VALUE_CAP].decode("utf-8", "replace"),
            reason=reason,
            error_kind=kind,
            stage=self.stage,
            failed_at=iso_utc(self._clock.now()),
            partition=record.partition,
            offset=record.offset,
        )
        self._producer.send(self._deadletter_topic, record.key, encode(letter))
        self._metrics.messages.labels(self.stage, "deadletter").inc()
        self._metrics.errors.labels(self.stage, kind, reason_label).inc()
        log.warning(
            "dead-lettered %s: %s",
            _where(record),
            reason,
            extra=self._context(record),
        )

    def _retry_later(self, unhandled: Sequence[Record], exc: RetryableError) -> None:
        """Rewind each partition to its first unhandled record and schedule a pause."""
        self._rewind(unhandled)
        self._attempt += 1
        self.pause_s = backoff_delay(self._backoff, self._attempt, self._rng, exc.retry_after)
        self._metrics.messages.labels(self.stage, "retry").inc()
        self._metrics.errors.labels(self.stage, exc.kind, exc.reason).inc()
        log.warning(
            "retrying %s in %.1fs: %s",
            _where(unhandled[0]),
            self.pause_s,
            exc,
            extra=self._context(unhandled[0]),
        )

    def _rewind(self, records: Sequence[Record]) -> None:
        """Make the next poll return each partition's first of ``records`` again."""
        first_per_partition: dict[tuple[str, int], Record] = {}
        for record in records:
            first_per_partition.setdefault((record.topic, record.partition), record)
        for record in first_per_partition.values():
            self._consumer.seek_back(record)

    def _context(self, record: Record) -> dict[str, object]:
        """Log fields for ``record``; its key is the article id on article-keyed stages."""
        context: dict[str, object] = {
            "stage": self.stage, "topic": record.topic, "key": record.key,
        }
        if self.stage in ARTICLE_KEYED_STAGES and record.key is not None:
            context["article_id"] = record.key
        return context

    def _report_lag(self) -> int:
        """Set the lag gauges; return the records waiting in all held partitions."""
        group = self.stage
        waiting = 0
        for (topic, partition), lag in self._consumer.lag().items():
            self._metrics.consumer_lag.labels(group, topic, str(partition)).set(lag)
            waiting += lag
        return waiting

    # -- the watchdog -------------------------------------------------------
    def _read_something(self) -> None:
        self._last_read = self._clock.monotonic()
        self._metrics.stage_stalled.labels(self.stage).set(0)

    def _watch(self, waiting: int) -> None:
        """Report a stall and raise :class:`StageStalled`; nothing waiting counts as read."""
        now = self._clock.monotonic()
        if waiting == 0:
            self._read_something()
            return
        if not is_stalled(now=now, last_read=self._last_read, waiting=waiting,
                          stall_after_s=self._stall_after_s):
            return
        idle = now - self._last_read
        self._metrics.stage_stalled.labels(self.stage).set(1)
        self._metrics.stage_stalls.labels(self.stage).inc()
        self._metrics.errors.labels(self.stage, StageStalled.kind, StageStalled.reason).inc()
        log.error(
            "stage %s stalled: %d records waiting and none read for %.0fs; "
            "re-creating its consumer", self.stage, waiting, idle,
            extra={"stage": self.stage, "waiting": waiting},
        )
        raise StageStalled(
            f"stage {self.stage} stalled: {waiting} records waiting, none read for {idle:.0f}s"
        )


def _where(record: Record) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset} key={record.key}"
