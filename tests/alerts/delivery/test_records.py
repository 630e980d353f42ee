"""Delivery outcomes shared through the changelog: kept, journalled, rebuilt, pruned."""

from __future__ import annotations

from monitor.alerts.delivery.progress import Outcome
from monitor.alerts.delivery.records import DeliveryRecords
from monitor.alerts.store import DEADLETTERED, DELIVERED, Settled
from monitor.bus.memory import MemoryBus

NOW = 1_800_000_000.0


def test_outcomes_are_rebuilt_from_the_journal_and_pruned_with_tombstones() -> None:
    bus = MemoryBus()
    producer = bus.producer()

    def journal(key: str, value: bytes | None) -> None:
        if value is None:
            producer.tombstone("deliveries", key, partition=0)
        else:
            producer.send("deliveries", key, value, partition=0)

    records = DeliveryRecords(journal)
    records.record(Outcome("story-1", "hook", DELIVERED, 1, "", NOW, revision=1))
    records.record(Outcome("story-1", "hook", DELIVERED, 2, "", NOW + 5, revision=2))
    records.record(Outcome("story-2", "slack", DEADLETTERED, 9, "gone", NOW - 100))
    rebuilt = DeliveryRecords()
    assert rebuilt.restore(bus.read_partition("deliveries", 0, 1.0)) == 3
    assert rebuilt.settled("story-1", "hook") == Settled(DELIVERED, 2, NOW + 5)
    assert rebuilt.settled("story-1", "slack") is None
    records.prune(NOW)
    again = DeliveryRecords()
    again.restore(bus.read_partition("deliveries", 0, 1.0))
    assert len(again) == 1 and again.settled("story-2", "slack") is None
