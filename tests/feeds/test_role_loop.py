"""PollerRole.run: polls as feeds come due, adopts a changed feed list, stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.bus.codec import decode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.feeds.fake import FakeFetcher
from monitor.feeds.fetcher import FetchRequest, FetchResult
from monitor.feeds.role import PollerRole
from monitor.feeds.store import PollerStore
from monitor.messages import Article
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.feeds.builders import rss, settings_for
from tests.feeds.helpers import Poller
from tests.feeds.httpserver import FeedServer, Reply


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def eventually(check: Callable[[], bool], limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def item(n: int) -> dict[str, str]:
    return {"link": f"https://wire.example/{n}", "title": f"Story {n}", "content": f"<p>{n}</p>"}


def test_run_polls_due_feeds_adopts_new_ones_and_stops(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/a"] = Reply(200, rss([item(1)]))
    server.routes["/b"] = Reply(200, rss([item(2)]))
    fast: dict[str, Any] = {"min_interval_s": 0.2, "default_interval_s": 0.3,
                            "interval_jitter": 0.0}
    settings = settings_for(tmp_path, {"a": server.url("/a")}, **fast)
    bus = MemoryBus()
    metrics = Metrics()
    role = Poller(settings, bus, metrics=metrics)
    topic = settings.bus.topics.articles
    stop = threading.Event()
    worker = threading.Thread(target=role.run, args=(stop,))
    worker.start()
    try:
        eventually(lambda: len(bus.records_in(topic)) == 1)
        eventually(lambda: len(server.hits("/a")) >= 3)
        server.routes["/a"] = Reply(200, rss([item(1), item(3)]))
        eventually(lambda: len(bus.records_in(topic)) == 2)
        role.reload(settings_for(tmp_path, {"a": server.url("/a"), "b": server.url("/b")},
                                 **fast))
        eventually(lambda: len(bus.records_in(topic)) == 3)
        role.reload(settings_for(tmp_path, {"b": server.url("/b")}, **fast))
        time.sleep(0.2)
        hits_after_removal = len(server.hits("/a"))
        eventually(lambda: len(server.hits("/b")) >= 4)
        assert len(server.hits("/a")) <= hits_after_removal + 1
    finally:
        stop.set()
        worker.join(timeout=10)
        role.close()
    assert not worker.is_alive()
    titles = [decode(r.value, Article).title for r in bus.records_in(topic)]
    assert titles == ["Story 1", "Story 3", "Story 2"]
    assert metrics.registry.get_sample_value("monitor_polls_total", {"outcome": "unchanged"})


def test_rate_limited_feed_waits_as_asked(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/busy"] = Reply(429, headers={"Retry-After": "3600"})
    settings = settings_for(tmp_path, {"busy": server.url("/busy")})
    metrics = Metrics()
    role = PollerRole(RoleContext(settings, MemoryBus(), metrics, SystemClock()))
    before = time.time()
    assert role.run_once() == 0
    state = role.feed_states["busy"]
    role.close()
    assert state.next_poll_at >= before + 3600
    assert state.health(settings.poller.broken_after_failures) == "degraded"
    assert metrics.registry.get_sample_value("monitor_polls_total", {"outcome": "rate_limited"})


def test_backoff_grows_with_consecutive_failures(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/down"] = Reply(502)
    settings = settings_for(tmp_path, {"down": server.url("/down")}, broken_after_failures=3,
                            backoff_base_s=600, min_interval_s=60)
    metrics = Metrics()
    role = PollerRole(RoleContext(settings, MemoryBus(), metrics, SystemClock()))
    failures = []
    for _ in range(4):
        role.run_once()
        failures.append(role.feed_states["down"].failures)
    state = role.feed_states["down"]
    role.close()
    assert failures == [1, 2, 3, 4]
    assert state.health(3) == "broken" and state.error_reason == "http_server"
    assert metrics.registry.get_sample_value("monitor_feeds", {"health": "broken"}) == 1


class HeldFetcher(FakeFetcher):
    """A fake fetcher whose answers for ``held`` wait until ``release`` is set."""

    def __init__(self, held: str, answers: dict[str, FetchResult]) -> None:
        super().__init__(answers)  # type: ignore[arg-type]
        self.held = held
        self.waiting = threading.Event()
        self.release = threading.Event()

    def fetch(self, request: FetchRequest) -> FetchResult:
        if request.url == self.held:
            self.waiting.set()
            assert self.release.wait(20), "never released"
        return super().fetch(request)


def test_feed_moved_while_being_polled_keeps_its_new_address(tmp_path: Path) -> None:
    old, new = "https://old.example/feed", "https://new.example/feed"
    fetcher = HeldFetcher(old, {
        old: FetchResult(200, old, body=rss([item(1)])),
        new: FetchResult(200, new, body=rss([item(2)])),
    })
    fast: dict[str, Any] = {"min_interval_s": 0.2, "default_interval_s": 0.3,
                            "interval_jitter": 0.0}
    bus = MemoryBus()
    settings = settings_for(tmp_path, {"f": old}, **fast)
    role = Poller(settings, bus, fetcher=fetcher)
    topic = settings.bus.topics.articles
    stop = threading.Event()
    worker = threading.Thread(target=role.run, args=(stop,))
    worker.start()
    try:
        assert fetcher.waiting.wait(10)
        role.reload(settings_for(tmp_path, {"f": new}, **fast))
        # The loop adopts the new list while the poll of the old address is held.
        eventually(lambda: role.feed_states["f"].config_url == new, limit_s=5)
        fetcher.release.set()
        eventually(lambda: any(r.url == new for r in fetcher.requests), limit_s=5)
        eventually(lambda: role.feed_states["f"].last_success_at is not None, limit_s=5)
        eventually(lambda: len(bus.records_in(topic)) == 1, limit_s=5)
    finally:
        fetcher.release.set()
        stop.set()
        worker.join(timeout=10)
        role.close()
    state = role.feed_states["f"]
    assert (state.config_url, state.url) == (new, new)
    assert [decode(r.value, Article).title for r in bus.records_in(topic)] == ["Story 2"]
    store = PollerStore.in_state_dir(settings.state_dir)
    (saved,) = store.load_states().values()
    store.close()
    assert saved.config_url == new
