"""State changelogged to a compacted topic, one state per input partition.

The way Kafka Streams keeps a task's state store: a stage whose decisions
need state keeps it in memory, one state per partition of its input topic, and
writes every change to a compacted changelog topic, into the partition
numbered like the input partition. The stage's output and changelog records
are flushed before the input is committed (:mod:`monitor.bus.worker`), so a
committed record's changes are on the changelog. When a partition is assigned
to a process (at start, or because its owner died), the process rebuilds that
partition's state from the changelog before handling the partition's records;
a partition taken away is forgotten. The local copy is a cache: any process,
on any machine, can take a partition over.

:class:`PartitionStates` is the :class:`~monitor.bus.base.AssignmentListener`
given to the stage's consumer; its callbacks only take note (they may run on
the transport's I/O thread) and the stage's thread restores a partition when
it first needs it.

With ``coalesce=True`` changes are not sent as they are made: the last change
of each key is kept until :meth:`PartitionStates.flush` sends it (the record
cache of Kafka Streams). The owner calls it once a batch's outputs are
flushed and before its commit, so a committed record's changes are still on
the changelog, while a key changed many times in a batch (a rule's recent
emissions) costs one changelog record instead of one per change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from monitor.bus.base import Bus, Producer, Record, TopicPartition
from monitor.bus.codec import M, decode
from monitor.errors import DecodeError
from monitor.ops.metrics import Metrics

log = logging.getLogger(__name__)

#: How long reading one changelog partition to its end may take.
RESTORE_TIMEOUT_S = 120.0


class Changelogged(Protocol):
    """A partition's state: rebuilt from changelog records, and sized."""

    def restore(self, records: Iterable[Record]) -> int:
        """Apply the records in order; return how many were applied."""

    def __len__(self) -> int:
        """How many entries it holds."""


S = TypeVar("S", bound=Changelogged)

#: Builds an empty state whose changes go to the given journal.
StateFactory = Callable[[Callable[[str, bytes | None], None]], S]


def restore_table(table: dict[str, M], records: Iterable[Record], kind: type[M]) -> int:
    """Apply changelog records to a table of ``kind`` entries by key, in order: the
    last record of a key wins, a tombstone removes it, a record that does not decode
    as ``kind`` (another version) is skipped. Returns how many were applied."""
    applied = 0
    for record in records:
        if record.key is None:
            continue
        if record.tombstone:
            table.pop(record.key, None)
        else:
            try:
                table[record.key] = decode(record.value, kind)
            except DecodeError:
                continue
        applied += 1
    return applied


class PartitionStates(Generic[S]):
    """The changelogged state of each input partition this process holds."""

    def __init__(
        self,
        *,
        stage: str,
        bus: Bus,
        producer: Producer,
        changelog: str,
        make: StateFactory[S],
        metrics: Metrics,
        restore_timeout_s: float = RESTORE_TIMEOUT_S,
        coalesce: bool = False,
    ) -> None:
        self._stage = stage
        self._bus = bus
        self._producer = producer
        self._changelog = changelog
        self._make = make
        self._metrics = metrics
        self._restore_timeout_s = restore_timeout_s
        self._lock = threading.Lock()
        self._states: dict[int, S] = {}
        #: Partitions assigned since they were last restored: restore before use.
        self._fresh: set[int] = set()
        self._coalesce = coalesce
        #: With ``coalesce``: each partition's unsent changes, the last per key.
        self._pending: dict[int, dict[str, bytes | None]] = {}
        self._revocations = 0

    # -- AssignmentListener (take note only) ---------------------------------
    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        with self._lock:
            self._fresh.update(p for _, p in partitions)

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        with self._lock:
            if partitions:  # a revocation of nothing drops nothing
                self._revocations += 1
            for _, partition in partitions:
                self._fresh.discard(partition)
                self._states.pop(partition, None)
                # Unsent changes belong to uncommitted records: the new owner
                # reads those again.
                self._pending.pop(partition, None)

    @property
    def revocations(self) -> int:
        """How many times partitions were taken away: the stage worker's
        ``revocations``, so that records handled on state since dropped are not
        committed (their changes went with it)."""
        with self._lock:
            return self._revocations

    # -- the stage's thread -----------------------------------------------------
    def state(self, partition: int) -> S:
        """The state of ``partition``, rebuilt from the changelog first if the
        partition was assigned since (or was never seen). Raises what the bus
        raises when the changelog cannot be read (retryable: the record is read
        again later)."""
        with self._lock:
            fresh = partition in self._fresh or partition not in self._states
        if not fresh:
            return self._states[partition]
        state = self._restore(partition)
        with self._lock:
            self._fresh.discard(partition)
            self._states[partition] = state
        return state

    def invalidate(self) -> None:
        """Forget every held state, so each is rebuilt from the changelog when next
        used: for a stage whose memory went ahead of its changelog (records it
        changed the state for were rewound, to be read again)."""
        with self._lock:
            self._states.clear()
            self._pending.clear()

    def flush(self) -> None:
        """With ``coalesce``: hand every unsent change to the producer (the owner
        then flushes the producer). Raises what the producer raises; the changes
        not handed over are then dropped with the states (:meth:`invalidate`
        is the caller's next step: its records are read again)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for partition, changes in pending.items():
            for key, value in changes.items():
                self._send(partition, key, value)

    def held(self) -> dict[int, S]:
        """The states restored so far, by partition."""
        with self._lock:
            return dict(self._states)

    def report(self) -> None:
        """Set the entries gauge of every held partition."""
        for partition, state in self.held().items():
            self._metrics.state_entries.labels(self._stage, str(partition)).set(len(state))

    def _restore(self, partition: int) -> S:
        started = time.monotonic()
        records = self._bus.read_partition(self._changelog, partition, self._restore_timeout_s)
        state = self._make(self._journal(partition))
        applied = state.restore(records)
        elapsed = time.monotonic() - started
        self._metrics.state_restores.labels(self._stage).inc()
        self._metrics.state_restore_seconds.labels(self._stage).observe(elapsed)
        self._metrics.state_entries.labels(self._stage, str(partition)).set(len(state))
        log.info(
            "stage %s: restored partition %d from %s: %d records, %d entries, in %.3f s",
            self._stage, partition, self._changelog, applied, len(state), elapsed,
            extra={"stage": self._stage, "partition": partition, "restore_s": elapsed},
        )
        return state

    def _journal(self, partition: int) -> Callable[[str, bytes | None], None]:
        if not self._coalesce:
            return lambda key, value: self._send(partition, key, value)

        def keep(key: str, value: bytes | None) -> None:
            with self._lock:
                changes = self._pending.setdefault(partition, {})
                # Re-inserted, so that the changes go out in the order of their last write.
                changes.pop(key, None)
                changes[key] = value

        return keep

    def _send(self, partition: int, key: str, value: bytes | None) -> None:
        if value is None:
            self._producer.tombstone(self._changelog, key, partition=partition)
        else:
            self._producer.send(self._changelog, key, value, partition=partition)
