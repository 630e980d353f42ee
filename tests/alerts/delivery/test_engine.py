"""The engine's surface: drain reads a backlog without changing how step works."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.alerts.notifiers import InProcessNotifier
from monitor.alerts.settings import AlertSettings
from monitor.alerts.store import AlertStore
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.clock import FrozenClock, iso_utc
from tests.alerts.test_delivery import alerts_from_fixture
from tests.alerts.test_delivery_engine import engine_on


def test_drain_sends_at_once_and_leaves_the_group_wait_to_later_steps(tmp_path: Path) -> None:
    clock = FrozenClock()
    bus = MemoryBus()
    notifier = InProcessNotifier("r")
    settings = AlertSettings(group_wait_s=30)
    engine = engine_on(bus, {"r": notifier}, AlertStore(tmp_path / "a.sqlite3"), clock, settings)
    first, second = (dataclasses.replace(a, created_at=iso_utc(clock.now()))
                     for a in alerts_from_fixture(2))
    producer = bus.producer()
    producer.send("alerts", first.id, encode(first))
    producer.flush()
    assert engine.drain(idle_s=0.05) == 1  # the backlog: nothing held back
    assert [a.id for a in notifier.delivered] == [first.id]
    producer.send("alerts", second.id, encode(second))
    producer.flush()
    for _ in range(5):
        engine.step(0.0)
    assert [a.id for a in notifier.delivered] == [first.id]  # held for the group wait
    clock.advance(31)
    while engine.in_flight:
        engine.step(0.0)
    assert [a.id for a in notifier.delivered] == [first.id, second.id]
    engine.close()
