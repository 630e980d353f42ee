"""PartitionStates: journalled changes, restore, and the coalescing record cache."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from monitor.bus.base import Record
from monitor.bus.changelog import PartitionStates
from monitor.bus.memory import MemoryBus
from monitor.ops.metrics import Metrics

CHANGELOG = "test.state"

Journal = Callable[[str, bytes | None], None]


class Table:
    """A state of raw values by key, for the tests."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.values: dict[str, bytes] = {}

    def put(self, key: str, value: bytes | None) -> None:
        if value is None:
            self.values.pop(key, None)
        else:
            self.values[key] = value
        self.journal(key, value)

    def restore(self, records: Iterable[Record]) -> int:
        applied = 0
        for record in records:
            assert record.key is not None
            if record.tombstone:
                self.values.pop(record.key, None)
            else:
                self.values[record.key] = record.value
            applied += 1
        return applied

    def __len__(self) -> int:
        return len(self.values)


def states(bus: MemoryBus, *, coalesce: bool) -> PartitionStates[Table]:
    bus.ensure_compacted_topic(CHANGELOG)
    return PartitionStates(stage="test", bus=bus, producer=bus.producer(), changelog=CHANGELOG,
                           make=Table, metrics=Metrics(), coalesce=coalesce)


def changelog(bus: MemoryBus, partition: int = 0) -> list[tuple[str | None, bytes | None]]:
    return [(r.key, None if r.tombstone else r.value)
            for r in bus.read_partition(CHANGELOG, partition, 5.0)]


def test_without_coalescing_every_change_is_sent_as_it_is_made() -> None:
    bus = MemoryBus()
    held = states(bus, coalesce=False)
    table = held.state(0)
    table.put("a", b"1")
    table.put("a", b"2")
    assert changelog(bus) == [("a", b"1"), ("a", b"2")]


def test_coalescing_sends_nothing_until_flush_then_the_last_change_of_each_key() -> None:
    bus = MemoryBus()
    held = states(bus, coalesce=True)
    table = held.state(0)
    table.put("emissions", b"1")
    table.put("story", b"s")
    table.put("emissions", b"2")
    table.put("gone", b"x")
    table.put("gone", None)
    assert changelog(bus) == []
    held.flush()
    # In the order of each key's last change; the removal is a tombstone.
    assert changelog(bus) == [("story", b"s"), ("emissions", b"2"), ("gone", None)]
    held.flush()
    assert len(changelog(bus)) == 3  # nothing is sent twice


def test_a_new_owner_restores_what_was_flushed_and_nothing_that_was_not() -> None:
    bus = MemoryBus(partitions=2)
    first = states(bus, coalesce=True)
    first.state(1).put("kept", b"1")
    first.flush()
    first.state(1).put("unsent", b"2")  # its record was never committed
    second = states(bus, coalesce=True)
    assert second.state(1).values == {"kept": b"1"}


def test_invalidate_drops_unsent_changes_and_restores_from_the_changelog() -> None:
    bus = MemoryBus()
    held = states(bus, coalesce=True)
    held.state(0).put("kept", b"1")
    held.flush()
    held.state(0).put("ahead", b"2")
    held.invalidate()
    held.flush()
    assert changelog(bus) == [("kept", b"1")]
    assert held.state(0).values == {"kept": b"1"}


def test_a_revoked_partition_loses_its_unsent_changes_and_only_those() -> None:
    bus = MemoryBus(partitions=2)
    held = states(bus, coalesce=True)
    held.state(0).put("mine", b"0")
    held.state(1).put("theirs", b"1")
    assert held.revocations == 0
    held.revoked([])
    assert held.revocations == 0  # nothing was dropped
    held.revoked([(CHANGELOG, 1)])
    assert held.revocations == 1  # the worker does not commit what was handled before
    held.flush()
    assert changelog(bus, 0) == [("mine", b"0")]
    assert changelog(bus, 1) == []
