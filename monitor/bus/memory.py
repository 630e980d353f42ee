"""An in-process bus with Kafka's semantics, for the embedded quick start and tests.

Topics are lists of partitions held in memory; consumer groups keep committed
offsets, members of a group share partitions, and nothing is committed unless
asked. Compaction is not modelled in memory: every record stays, tombstones
included, which readers of a table handle anyway. Everything is guarded by one
condition variable, so producers and consumers may live on different threads
of the same process.

Given a ``data_dir``, the bus keeps its compacted topics (the alert sink's
state changelog) in ``<data_dir>/embedded-bus.sqlite3``, compacted there (one
row per key, removed by a tombstone), and reads them back when the topic is
declared compacted again: the quick start's story state survives a restart as
it would on a broker. Other topics live in memory only.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from monitor.bus.base import AssignmentListener, Bus, Record, TopicPartition
from monitor.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS compacted (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (topic, partition, key)
);
"""


class MemoryBus:
    """The embedded transport. Data lives as long as the object."""

    name = "embedded"
    FILENAME = "embedded-bus.sqlite3"

    def __init__(self, partitions: int = 1, data_dir: Path | None = None) -> None:
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        self._partitions = partitions
        self._data_dir = data_dir
        self._db: Database | None = None
        #: Compacted topics kept in the data folder.
        self._kept: set[str] = set()
        self._cond = threading.Condition()
        self._logs: dict[str, list[list[Record]]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._members: dict[str, list[MemoryConsumer]] = {}

    # -- Bus protocol -------------------------------------------------------
    def producer(self) -> MemoryProducer:
        return MemoryProducer(self)

    def consumer(
        self, topics: Sequence[str], group: str, listener: AssignmentListener | None = None
    ) -> MemoryConsumer:
        return self._join(MemoryConsumer(self, tuple(topics), group, listener))

    def table_reader(
        self, topic: str, group: str, listener: AssignmentListener
    ) -> MemoryTableReader:
        return self._join(MemoryTableReader(self, (topic,), group, listener))

    def read_all(self, topic: str, timeout_s: float) -> list[Record]:
        """Every record of ``topic``, partition by partition; never waits."""
        return self.records_in(topic)

    def read_partition(self, topic: str, partition: int, timeout_s: float) -> list[Record]:
        """Every record of one partition of ``topic``; never waits."""
        with self._cond:
            partitions = self._log(topic)
            return list(partitions[partition]) if 0 <= partition < len(partitions) else []

    def ensure_compacted_topic(self, topic: str) -> None:
        """Create ``topic`` if missing; with a data folder, read back what it held
        there when it holds no record yet in this process, and keep what it is given
        from now on."""
        with self._cond:
            # Records, not the name: open_bus creates every topic, empty, first.
            known = any(self._logs.get(topic, ()))
            log = self._log(topic)
            if self._data_dir is None or topic in self._kept:
                return
            self._kept.add(topic)
            if known:
                return
            for partition, key, value in self._database().query(
                "SELECT partition, key, value FROM compacted WHERE topic = ? ORDER BY rowid",
                (topic,),
            ):
                if 0 <= partition < len(log):
                    records = log[partition]
                    records.append(Record(topic, partition, len(records), key, bytes(value)))

    def _database(self) -> Database:
        if self._db is None:
            assert self._data_dir is not None
            self._db = Database(self._data_dir / self.FILENAME, _SCHEMA)
        return self._db

    def _keep(self, topic: str, partition: int, key: str | None, value: bytes | None) -> None:
        """Write one record of a kept compacted topic through to the data folder."""
        if key is None:
            return
        with self._database().transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM compacted WHERE topic = ? AND partition = ? AND key = ?",
                             (topic, partition, key))
            else:
                conn.execute("INSERT OR REPLACE INTO compacted VALUES (?, ?, ?, ?)",
                             (topic, partition, key, value))

    def _join(self, member: _Member) -> _Member:
        with self._cond:
            self._members.setdefault(member.group, []).append(member)
            self._cond.notify_all()
        return member

    def reachable(self) -> bool:
        """The embedded bus lives in this process: it always answers."""
        return True

    def ensure_topics(self, topics: Sequence[str]) -> None:
        with self._cond:
            for topic in topics:
                self._log(topic)

    def close(self) -> None:
        with self._cond:
            self._cond.notify_all()
            db, self._db = self._db, None
        if db is not None:
            db.close()

    # -- used by producers and consumers (lock held by caller) --------------
    def _log(self, topic: str) -> list[list[Record]]:
        if topic not in self._logs:
            self._logs[topic] = [[] for _ in range(self._partitions)]
        return self._logs[topic]

    def _append(
        self,
        topic: str,
        key: str | None,
        value: bytes | None,
        headers: Mapping[str, bytes],
        partition: int | None = None,
    ) -> None:
        with self._cond:
            log = self._log(topic)
            if partition is None:
                partition = zlib.crc32((key or "").encode()) % len(log) if key else 0
            elif not 0 <= partition < len(log):
                raise ValueError(f"{topic} has no partition {partition}")
            if topic in self._kept:
                self._keep(topic, partition, key, value)
            records = log[partition]
            records.append(
                Record(
                    topic=topic,
                    partition=partition,
                    offset=len(records),
                    key=key,
                    value=value if value is not None else b"",
                    headers=dict(headers),
                    timestamp_ms=int(time.time() * 1000),
                    tombstone=value is None,
                )
            )
            self._cond.notify_all()

    def _assignment(self, member: MemoryConsumer) -> list[TopicPartition]:
        """Partitions of ``member``: round-robin over the group's members."""
        members = self._members.get(member.group, [])
        partitions = sorted(
            (topic, p) for topic in member.topics for p in range(len(self._log(topic)))
        )
        index = members.index(member)
        return [tp for i, tp in enumerate(partitions) if i % len(members) == index]

    def _leave(self, member: MemoryConsumer) -> None:
        with self._cond:
            members = self._members.get(member.group, [])
            if member in members:
                members.remove(member)
            self._cond.notify_all()

    def records_in(self, topic: str) -> list[Record]:
        """Every record of ``topic`` across partitions (for tests and tools)."""
        with self._cond:
            return [r for part in self._log(topic) for r in part]


class MemoryProducer:
    """Writes straight into the bus; ``flush`` has nothing to wait for."""

    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus

    def send(
        self,
        topic: str,
        key: str | None,
        value: bytes,
        headers: Mapping[str, bytes] | None = None,
        partition: int | None = None,
    ) -> None:
        self._bus._append(topic, key, value, headers or {}, partition)

    def tombstone(self, topic: str, key: str, partition: int | None = None) -> None:
        self._bus._append(topic, key, None, {}, partition)

    def flush(self, timeout_s: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


class MemoryConsumer:
    """A group member; positions start at the group's committed offsets."""

    def __init__(
        self,
        bus: MemoryBus,
        topics: tuple[str, ...],
        group: str,
        listener: AssignmentListener | None = None,
    ) -> None:
        self._bus = bus
        self.topics = topics
        self.group = group
        self._listener = listener
        self._positions: dict[TopicPartition, int] = {}
        #: The partitions this member last noticed it holds.
        self._assigned: list[TopicPartition] = []

    def poll(self, timeout_s: float, max_records: int = 500) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        while True:
            self._notice_assignment()
            with self._bus._cond:
                batch = self._take(max_records)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0:
                    return batch
                self._bus._cond.wait(remaining)

    def _notice_assignment(self) -> None:
        """Adopt the group's present share of partitions (and say so, in a table reader)."""
        with self._bus._cond:
            assigned = self._bus._assignment(self)
            lost = [tp for tp in self._assigned if tp not in assigned]
            gained = [tp for tp in assigned if tp not in self._assigned]
            self._assigned = assigned
            self._positions = {tp: pos for tp, pos in self._positions.items() if tp in assigned}
            self._gained(gained)
        if lost or gained:
            self._announce(lost, gained)

    def _gained(self, partitions: list[TopicPartition]) -> None:
        """Hook for newly held partitions (lock held)."""

    def _announce(self, lost: list[TopicPartition], gained: list[TopicPartition]) -> None:
        """Tell the listener, if any, of a changed assignment (lock not held)."""
        if self._listener is None:
            return
        if lost:
            self._listener.revoked(lost)
        if gained:
            self._listener.assigned(gained)

    def _take(self, max_records: int) -> list[Record]:
        assigned = self._assigned
        batch: list[Record] = []
        for topic, partition in assigned:
            key = (self.group, topic, partition)
            position = self._positions.get((topic, partition), self._bus._committed.get(key, 0))
            records = self._bus._log(topic)[partition][position : position + max_records]
            batch.extend(records)
            self._positions[(topic, partition)] = position + len(records)
            max_records -= len(records)
            if max_records <= 0:
                break
        return batch

    def commit(self, records: Sequence[Record]) -> None:
        with self._bus._cond:
            for record in records:
                key = (self.group, record.topic, record.partition)
                current = self._bus._committed.get(key, 0)
                self._bus._committed[key] = max(current, record.offset + 1)

    def seek_back(self, record: Record) -> None:
        with self._bus._cond:
            self._positions[(record.topic, record.partition)] = record.offset

    def lag(self) -> dict[tuple[str, int], int]:
        with self._bus._cond:
            lags: dict[tuple[str, int], int] = {}
            for topic, partition in self._bus._assignment(self):
                end = len(self._bus._log(topic)[partition])
                committed = self._bus._committed.get((self.group, topic, partition), 0)
                position = self._positions.get((topic, partition), committed)
                lags[(topic, partition)] = end - position
            return lags

    def close(self) -> None:
        self._bus._leave(self)


class MemoryTableReader(MemoryConsumer):
    """A group member reading its partitions of a table from the start, on every assignment."""

    def __init__(
        self, bus: MemoryBus, topics: tuple[str, ...], group: str, listener: AssignmentListener
    ) -> None:
        super().__init__(bus, topics, group, listener)
        #: Where each held partition ended when it was assigned.
        self._ends: dict[TopicPartition, int] = {}

    def _gained(self, partitions: list[TopicPartition]) -> None:
        self._ends = {tp: end for tp, end in self._ends.items() if tp in self._assigned}
        for topic, partition in partitions:
            self._positions[(topic, partition)] = 0
            self._ends[(topic, partition)] = len(self._bus._log(topic)[partition])

    def caught_up(self) -> bool:
        with self._bus._cond:
            return all(self._positions.get(tp, 0) >= end for tp, end in self._ends.items())


_Member = TypeVar("_Member", MemoryConsumer, MemoryTableReader)

if TYPE_CHECKING:  # mypy proves MemoryBus meets the protocol
    _protocol_check: Bus = MemoryBus()
