"""Delivering a story's revisions: the first at once, later ones an interval apart,
only the newest of those waiting, never one a receiver already has."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.alerts.deliverable import Deliverable, revision_of
from monitor.alerts.grouping import regroup, story_id
from monitor.alerts.notifiers import InProcessNotifier
from monitor.alerts.settings import AlertSettings
from monitor.alerts.store import AlertStore
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.clock import FrozenClock
from monitor.messages import Source, StoryNotification
from tests.alerts.test_delivery import alerts_from_fixture
from tests.alerts.test_delivery_engine import engine_on, run_steps

INTERVAL = 60.0


def story() -> StoryNotification:
    alerts = alerts_from_fixture(1)
    made = regroup(None, story_id("a0"), alerts, False, 1_700_000_000.0).notification
    assert made is not None
    return made


def revised(base: StoryNotification, revision: int, feed: str) -> StoryNotification:
    return dataclasses.replace(
        base,
        revision=revision,
        sources=(
            *base.sources,
            Source(feed, f"https://{feed}.example/feed", f"https://{feed}.example/a"),
        ),
    )


def send(bus: MemoryBus, item: Deliverable) -> None:
    bus.producer().send("alerts", item.id, encode(item))


def test_revisions_reach_a_receiver_once_each_at_most_once_per_group_interval(
    tmp_path: Path,
) -> None:
    clock = FrozenClock()
    notifier = InProcessNotifier("r")
    bus = MemoryBus()
    engine = engine_on(
        bus,
        {"r": notifier},
        AlertStore(tmp_path / "a.sqlite3"),
        clock,
        AlertSettings(group_interval_s=INTERVAL),
    )
    first = story()
    send(bus, first)
    run_steps(engine, clock, 4)
    assert [(d.id, revision_of(d)) for d in notifier.delivered] == [(first.id, 1)]

    # Two revisions arrive within the interval: the receiver waits, then gets the newest.
    second, third = revised(first, 2, "b"), revised(revised(first, 2, "b"), 3, "c")
    send(bus, second)
    send(bus, third)
    run_steps(engine, clock, 20, tick_s=1.0)  # 20 s: still inside the interval
    assert len(notifier.delivered) == 1
    run_steps(engine, clock, 50, tick_s=1.0)  # past it
    assert [revision_of(d) for d in notifier.delivered] == [1, 3]
    assert len(notifier.delivered[-1].sources) == 3

    # The same revisions read again (a restart, a replay): nothing is sent.
    for item in (first, second, third):
        send(bus, item)
    run_steps(engine, clock, 200, tick_s=1.0)
    assert len(notifier.delivered) == 2
    engine.close()


def test_a_revision_after_a_quiet_interval_goes_out_at_once(tmp_path: Path) -> None:
    clock = FrozenClock()
    notifier = InProcessNotifier("r")
    bus = MemoryBus()
    store = AlertStore(tmp_path / "a.sqlite3")
    engine = engine_on(bus, {"r": notifier}, store, clock, AlertSettings(group_interval_s=INTERVAL))
    first = story()
    send(bus, first)
    run_steps(engine, clock, 2)
    clock.advance(INTERVAL * 2)
    send(bus, revised(first, 2, "b"))
    run_steps(engine, clock, 2)
    assert [revision_of(d) for d in notifier.delivered] == [1, 2]
    stored = store.get(first.id)
    assert stored is not None and isinstance(stored.alert, StoryNotification)
    assert stored.alert.revision == 2 and stored.deliveries == {"r": "delivered"}
    settled = store.settled(first.id, "r")
    assert settled is not None and settled.revision == 2
    engine.close()
