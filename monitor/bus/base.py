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

For a compacted topic read as a table (the pollers' shared feed list):

* :meth:`Producer.tombstone` writes a record without value, which removes its
  key once the topic is compacted; it is read back with ``tombstone`` set.
* :meth:`Bus.table_reader` is a group member that reads every partition it is
  given from the first record, commits nothing, tells an
  :class:`AssignmentListener` what it gained and lost, and says when it has read
  its partitions up to where they ended when it got them
  (:meth:`TableReader.caught_up`).
* :meth:`Bus.read_all` reads a whole topic to its present end without a group.

For a stage whose state is changelogged (the alert sink's stories):

* :meth:`Producer.send` and :meth:`Producer.tombstone` take an explicit
  ``partition``, so a state change lands in the changelog partition numbered
  like the input partition it belongs to;
* :meth:`Bus.consumer` takes an :class:`AssignmentListener`, told what the
  member gained and lost, so the stage restores a gained partition's state
  before handling its records;
* :meth:`Bus.read_partition` reads one partition to its present end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: A partition of a topic: (topic, partition number).
TopicPartition = tuple[str, int]


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
    #: A record without value (``value`` is then empty): its key is removed on compaction.
    tombstone: bool = False


class Producer(Protocol):
    """Publishes records; ``send`` may buffer, ``flush`` waits for acknowledgement."""

    def send(
        self,
        topic: str,
        key: str | None,
        value: bytes,
        headers: Mapping[str, bytes] | None = None,
        partition: int | None = None,
    ) -> None:
        """Queue one record, in ``partition`` if given (else the key's partition);
        raises :class:`~monitor.errors.BrokerUnavailable` or another
        :class:`~monitor.errors.MonitorError` on failure."""

    def tombstone(self, topic: str, key: str, partition: int | None = None) -> None:
        """Queue a record without value for ``key``: a compacted topic forgets the key."""

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


class AssignmentListener(Protocol):
    """Hears which partitions a consumer or :class:`TableReader` gained and lost.

    Called during :meth:`Consumer.poll`, possibly on the transport's own I/O
    thread: it must only take note, never block or call the bus.
    """

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """These partitions are now this member's (a table reader reads them from the
        start; a consumer from the group's committed offsets)."""

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        """These partitions are no longer this member's."""


class TableReader(Consumer, Protocol):
    """A group member reading a compacted topic as a table (see :meth:`Bus.table_reader`)."""

    def caught_up(self) -> bool:
        """Whether every partition held has been read up to where it ended when it was
        assigned (true while none is held)."""


class Bus(Protocol):
    """A factory for producers and consumers on one transport."""

    name: str

    def producer(self) -> Producer:
        """A new producer (idempotent where the transport supports it)."""

    def consumer(
        self, topics: Sequence[str], group: str, listener: AssignmentListener | None = None
    ) -> Consumer:
        """A new member of ``group`` reading ``topics``; ``listener`` hears its assignments."""

    def table_reader(
        self, topic: str, group: str, listener: AssignmentListener
    ) -> TableReader:
        """A new member of ``group`` reading ``topic``'s partitions it is given from
        their first record on every assignment, committing nothing."""

    def read_all(self, topic: str, timeout_s: float) -> list[Record]:
        """Every record of ``topic`` up to its present end, partition by partition,
        without joining a group; raises :class:`~monitor.errors.BrokerUnavailable`
        when the end is not reached within ``timeout_s``."""

    def read_partition(self, topic: str, partition: int, timeout_s: float) -> list[Record]:
        """Every record of one partition up to its present end, without joining a group
        (empty for a partition that does not exist); raises
        :class:`~monitor.errors.BrokerUnavailable` when the end is not reached in time."""

    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create missing topics (no-op where topics are implicit)."""

    def ensure_compacted_topic(self, topic: str) -> None:
        """Create ``topic`` compacted (one record kept per key), or make it so."""

    def reachable(self) -> bool:
        """Whether the transport answers now; cheap enough for a readiness probe."""

    def close(self) -> None:
        """Release any shared resources."""
