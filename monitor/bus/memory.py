"""An in-process bus with Kafka's semantics, for the embedded quick start and tests.

Topics are lists of partitions held in memory; consumer groups keep committed
offsets, members of a group share partitions, and nothing is committed unless
asked. Everything is guarded by one condition variable, so producers and
consumers may live on different threads of the same process.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Mapping, Sequence

from monitor.bus.base import Record

TopicPartition = tuple[str, int]


class MemoryBus:
    """The embedded transport. Data lives as long as the object."""

    name = "embedded"

    def __init__(self, partitions: int = 1) -> None:
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        self._partitions = partitions
        self._cond = threading.Condition()
        self._logs: dict[str, list[list[Record]]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._members: dict[str, list[MemoryConsumer]] = {}

    # -- Bus protocol -------------------------------------------------------
    def producer(self) -> MemoryProducer:
        return MemoryProducer(self)

    def consumer(self, topics: Sequence[str], group: str) -> MemoryConsumer:
        member = MemoryConsumer(self, tuple(topics), group)
        with self._cond:
            self._members.setdefault(group, []).append(member)
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

    # -- used by producers and consumers (lock held by caller) --------------
    def _log(self, topic: str) -> list[list[Record]]:
        if topic not in self._logs:
            self._logs[topic] = [[] for _ in range(self._partitions)]
        return self._logs[topic]

    def _append(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, bytes]
    ) -> None:
        with self._cond:
            log = self._log(topic)
            partition = zlib.crc32((key or "").encode()) % len(log) if key else 0
            records = log[partition]
            records.append(
                Record(
                    topic=topic,
                    partition=partition,
                    offset=len(records),
                    key=key,
                    value=value,
                    headers=dict(headers),
                    timestamp_ms=int(time.time() * 1000),
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
    ) -> None:
        self._bus._append(topic, key, value, headers or {})

    def flush(self, timeout_s: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


class MemoryConsumer:
    """A group member; positions start at the group's committed offsets."""

    def __init__(self, bus: MemoryBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self.topics = topics
        self.group = group
        self._positions: dict[TopicPartition, int] = {}

    def poll(self, timeout_s: float, max_records: int = 500) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        with self._bus._cond:
            while True:
                batch = self._take(max_records)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0:
                    return batch
                self._bus._cond.wait(remaining)

    def _take(self, max_records: int) -> list[Record]:
        assigned = self._bus._assignment(self)
        self._positions = {tp: pos for tp, pos in self._positions.items() if tp in assigned}
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
