"""Silences on the bus's compacted topic: made anywhere, followed by every sink."""

from __future__ import annotations

import time
from collections.abc import Callable

from monitor.alerts.silences import SilenceTopic
from monitor.bus.memory import MemoryBus

NOW = 1_800_000_000.0
TOPIC = "silences"


def eventually(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_silence_made_by_a_command_reaches_a_following_sink_and_ends_there() -> None:
    bus = MemoryBus(partitions=3)
    command = SilenceTopic(bus, TOPIC)
    made = command.add(NOW, NOW + 3600, rule="election-result-disputed", comment="known")
    follower = SilenceTopic(bus, TOPIC, follow_group="stories")
    try:
        assert [s.id for s in follower.active(NOW + 1)] == [made.id]
        assert SilenceTopic(bus, TOPIC).expire(made.id, NOW + 2)
        assert eventually(lambda: follower.active(NOW + 3) == [])
        assert not SilenceTopic(bus, TOPIC).expire(made.id, NOW + 4)  # ended already
    finally:
        follower.close()


def test_ended_silences_are_pruned_with_tombstones() -> None:
    bus = MemoryBus()
    command = SilenceTopic(bus, TOPIC)
    old = command.add(NOW - 7200, NOW - 3600, labels={"topic": "election"})
    kept = command.add(NOW, NOW + 60, rule="r")
    command.prune(NOW - 10)
    records = bus.read_all(TOPIC, 1.0)
    assert [(r.key, r.tombstone) for r in records][-1] == (old.id, True)
    assert [s.id for s in SilenceTopic(bus, TOPIC).active(NOW)] == [kept.id]


def test_a_record_of_another_version_is_skipped() -> None:
    bus = MemoryBus()
    bus.ensure_compacted_topic(TOPIC)
    bus.producer().send(TOPIC, "x", b'{"schema": "silence/0"}')
    made = SilenceTopic(bus, TOPIC).add(NOW, NOW + 60, rule="r")
    assert [s.id for s in SilenceTopic(bus, TOPIC).active(NOW)] == [made.id]
