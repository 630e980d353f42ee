"""The bus transport protocol: what every stage needs from Kafka or its stand-in.

Two implementations sit beside each other: :mod:`monitor.bus.memory` (one
process, used by the embedded quick start and unit tests) and
:mod:`monitor.bus.kafka` (kafka-python against a real broker).

Contract shared by both:

* Records with the same key land in the same partition, so per-key order holds.
* A consumer belongs to a group; each partition is read by one member at a
  time, and groups read independently of each other.
* Nothing is committed implicitly. :meth:`Consumer.commit` records that every
  record up to and including the given ones is fully handled; after a restart
  (or a rebalance) the group resumes after the last committed record.
* :meth:`Consumer.seek_back` rewinds a partition to a record, so a record whose
  handling failed with a retryable error is read again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Record:
    """One record read from a topic."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: Mapping[str, bytes] = field(default_factory=dict)
    timestamp_ms: int | None = None


class Producer(Protocol):
    """Publishes records; ``send`` may buffer, ``flush`` waits for acknowledgement."""

    def send(
        self,
        topic: str,
        key: str | None,
        value: bytes,
        headers: Mapping[str, bytes] | None = None,
    ) -> None:
        """Queue one record; raises :class:`~monitor.errors.BrokerUnavailable`
        or another :class:`~monitor.errors.MonitorError` on failure."""

    def flush(self, timeout_s: float | None = None) -> None:
        """Block until every queued record is acknowledged by the broker."""

    def close(self) -> None:
        """Flush and release resources."""


class Consumer(Protocol):
    """Reads records for one consumer group, committing only on request."""

    def poll(self, timeout_s: float, max_records: int = 500) -> Sequence[Record]:
        """Return the next available records (possibly none) within ``timeout_s``."""

    def commit(self, records: Sequence[Record]) -> None:
        """Mark these records, and all earlier ones in their partitions, handled."""

    def seek_back(self, record: Record) -> None:
        """Make the next poll return ``record`` again (and what follows it)."""

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet consumed per (topic, partition) assigned to this member."""

    def close(self) -> None:
        """Leave the group; uncommitted records will be read again by someone."""


class Bus(Protocol):
    """A factory for producers and consumers on one transport."""

    name: str

    def producer(self) -> Producer:
        """A new producer (idempotent where the transport supports it)."""

    def consumer(self, topics: Sequence[str], group: str) -> Consumer:
        """A new member of ``group`` reading ``topics``."""

    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create missing topics (no-op where topics are implicit)."""

    def reachable(self) -> bool:
        """Whether the transport answers now; cheap enough for a readiness probe."""

    def close(self) -> None:
        """Release any shared resources."""
