"""The publisher stage on the in-process bus: decisions on changelogged state."""

from __future__ import annotations

from pathlib import Path

from monitor.bus import open_bus
from monitor.bus.base import Bus
from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus, MemoryProducer
from monitor.clock import Clock, FrozenClock, SystemClock
from monitor.config import Settings
from monitor.errors import BrokerUnavailable
from monitor.feeds.publisher import PRUNE_INTERVAL_S, PublishRole
from monitor.feeds.role import poller_roles
from monitor.messages import Article, DeadLetter
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.feeds.builders import settings_for
from tests.feeds.helpers import recorded_articles
from tests.feeds.test_publishing import article

DAY_S = 86_400.0


def make_ctx(
    folder: Path, bus: Bus, clock: Clock | None = None, metrics: Metrics | None = None
) -> RoleContext:
    """A context whose state folder is ``folder``: one per "machine"."""
    return RoleContext(settings_for(folder, {}), bus, metrics or Metrics(), clock or SystemClock())


def hand_over(bus: Bus, settings: Settings, *copies: Article) -> None:
    """What polls do: each found copy onto the found topic, keyed by article id."""
    producer = bus.producer()
    for copy in copies:
        producer.send(settings.bus.topics.articles_found, copy.id, encode(copy))
    producer.flush()


def published(bus: MemoryBus, settings: Settings) -> list[tuple[str, list[str]]]:
    """(article id, its sources' feed ids) of every record on the articles topic."""
    records = bus.records_in(settings.bus.topics.articles)
    return [(a.id, [s.feed_id for s in a.sources])
            for a in (decode(r.value, Article) for r in records)]


def run_publisher(ctx: RoleContext) -> int:
    role = PublishRole(ctx)
    try:
        return role.run_once()
    finally:
        role.close()


def test_copies_are_published_new_then_revised_once_per_feed(tmp_path: Path) -> None:
    bus = MemoryBus(partitions=3)
    metrics = Metrics()
    ctx = make_ctx(tmp_path, bus, metrics=metrics)
    settings = ctx.settings
    hand_over(bus, settings, article("x", "a"), article("y", "a"), article("x", "b"),
              article("x", "a"), article("x", "b", "c"))
    assert run_publisher(ctx) == 5
    assert sorted(published(bus, settings)) == sorted([
        ("x", ["a"]), ("y", ["a"]), ("x", ["a", "b"]), ("x", ["a", "b", "c"]),
    ])
    assert {k: [s.feed_id for s in e.sources]
            for k, e in recorded_articles(settings, bus).items()} == {
        "x": ["a", "b", "c"], "y": ["a"]}
    assert metrics.registry.get_sample_value("monitor_articles_total") == 4
    assert metrics.registry.get_sample_value("monitor_feed_items_total", {"result": "new"}) == 2
    assert metrics.registry.get_sample_value(
        "monitor_feed_items_total", {"result": "duplicate"}) == 3


def test_a_publisher_with_an_empty_state_folder_on_another_machine_takes_the_partition_over(
    tmp_path: Path,
) -> None:
    """The publisher that published an article leaves; another, with an empty state
    folder of its own, is given the partition, rebuilds the published articles from
    the changelog and turns a later feed's copy into a revision, not a new article."""
    bus = MemoryBus()
    first = make_ctx(tmp_path / "machine-a", bus)
    settings = first.settings
    hand_over(bus, settings, article("x", "a"))
    run_publisher(first)
    assert published(bus, settings) == [("x", ["a"])]

    second = make_ctx(tmp_path / "machine-b", bus)
    hand_over(bus, settings, article("x", "b"), article("x", "a"))
    run_publisher(second)
    assert published(bus, settings) == [("x", ["a"]), ("x", ["a", "b"])]
    assert second.metrics.state_restores.labels("publisher")._value.get() == 1


def embedded(settings: Settings) -> MemoryBus:
    """The embedded bus as the daemon opens it (every topic created, the state folder
    keeping the compacted ones)."""
    bus = open_bus(settings.bus, settings.state_dir)
    assert isinstance(bus, MemoryBus)
    return bus


def test_the_embedded_bus_keeps_the_seen_state_across_a_restart(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, {})
    bus = embedded(settings)
    ctx = make_ctx(tmp_path, bus)
    hand_over(bus, ctx.settings, article("x", "a"))
    run_publisher(ctx)
    bus.close()

    restarted = embedded(settings)
    ctx = make_ctx(tmp_path, restarted)
    hand_over(restarted, ctx.settings, article("x", "a"), article("x", "b"))
    run_publisher(ctx)
    assert published(restarted, ctx.settings) == [("x", ["a", "b"])]
    restarted.close()


class FailingFlushes(MemoryBus):
    """An in-process bus whose producers' next ``fail`` flushes fail (records sent
    meanwhile are on their topics already, as after a timeout); ``journalled``
    notes how many changelog records there were at each failure."""

    fail = 0
    changelog = ""

    def __init__(self) -> None:
        super().__init__()
        self.journalled: list[int] = []

    def producer(self) -> MemoryProducer:
        bus = self

        class Flaky(MemoryProducer):
            def flush(self, timeout_s: float | None = None) -> None:
                if bus.fail > 0:
                    bus.fail -= 1
                    bus.journalled.append(len(bus.records_in(bus.changelog)))
                    raise BrokerUnavailable("flush timed out (test)")

        return Flaky(self)


def test_a_failed_flush_journals_nothing_and_the_copy_is_decided_again(tmp_path: Path) -> None:
    """The changelog is never ahead of the articles: a failed flush comes before
    anything is journalled, memory is rebuilt, and the copy is published again
    (at-least-once)."""
    bus = FailingFlushes()
    ctx = make_ctx(tmp_path, bus)
    settings = ctx.settings
    bus.changelog = settings.bus.topics.articles_seen
    hand_over(bus, settings, article("x", "a"))
    bus.fail = 1
    assert run_publisher(ctx) == 1
    assert bus.journalled == [0]
    assert published(bus, settings) == [("x", ["a"]), ("x", ["a"])]
    assert list(recorded_articles(settings, bus)) == ["x"]
    assert ctx.metrics.state_restores.labels("publisher")._value.get() == 2


def test_old_articles_are_pruned_with_tombstones_and_are_new_again(tmp_path: Path) -> None:
    bus = MemoryBus()
    clock = FrozenClock()
    ctx = make_ctx(tmp_path, bus, clock=clock)
    settings = ctx.settings
    retention_s = settings.poller.seen_retention_days * DAY_S
    role = PublishRole(ctx)
    try:
        hand_over(bus, settings, article("old", "a"))
        role.run_once()
        clock.advance(retention_s - PRUNE_INTERVAL_S)
        hand_over(bus, settings, article("kept", "a"))
        role.run_once()
        clock.advance(2 * PRUNE_INTERVAL_S)  # "old" is past the retention, "kept" is not
        hand_over(bus, settings, article("other", "a"))
        role.run_once()
        seen = bus.records_in(settings.bus.topics.articles_seen)
        assert [(r.key, r.tombstone) for r in seen][-1] == ("old", True)
        assert set(recorded_articles(settings, bus)) == {"kept", "other"}
        hand_over(bus, settings, article("old", "b"), article("kept", "b"))
        role.run_once()
    finally:
        role.close()
    assert published(bus, settings)[-2:] == [("old", ["b"]), ("kept", ["a", "b"])]


def test_a_bad_found_record_is_dead_lettered_and_the_rest_published(tmp_path: Path) -> None:
    bus = MemoryBus()
    ctx = make_ctx(tmp_path, bus)
    topics = ctx.settings.bus.topics
    producer = bus.producer()
    producer.send(topics.articles_found, "bad", b'{"schema": "article/9"}')
    hand_over(bus, ctx.settings, article("x", "a"))
    assert run_publisher(ctx) == 2
    assert published(bus, ctx.settings) == [("x", ["a"])]
    (letter,) = [decode(r.value, DeadLetter) for r in bus.records_in(topics.deadletter)]
    assert (letter.stage, letter.topic, letter.key) == ("publisher", topics.articles_found, "bad")


def test_the_poller_role_is_polling_then_publishing(tmp_path: Path) -> None:
    roles = poller_roles(make_ctx(tmp_path, MemoryBus()))
    try:
        assert [role.name for role in roles] == ["poller", "publisher"]
    finally:
        for role in roles:
            role.close()

