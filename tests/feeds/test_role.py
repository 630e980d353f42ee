"""The poller role's stages against a loopback HTTP server and the in-process bus."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.bus.codec import decode
from monitor.bus.memory import MemoryBus
from monitor.config import Settings
from monitor.feeds.health import read_health
from monitor.messages import Article
from tests.feeds.builders import rss, settings_for
from tests.feeds.helpers import Poller, recorded_articles
from tests.feeds.httpserver import FeedServer, Reply, conditional


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def eventually(check: Callable[[], bool], limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def make_role(settings: Settings, bus: MemoryBus) -> Poller:
    return Poller(settings, bus)


def published(bus: MemoryBus, settings: Settings) -> list[Article]:
    return [decode(r.value, Article) for r in bus.records_in(settings.bus.topics.articles)]


ITEMS = [
    {"guid": "https://news.example.org/a1", "title": "First", "content": "<p>Body one.</p>",
     "pubDate": "Tue, 10 Jun 2025 04:00:00 GMT"},
    {"link": "https://www.news.example.org/a2?utm_source=rss#top", "title": "Second",
     "content": "<p>Body two.</p><p>More.</p>"},
]


def test_run_once_publishes_each_new_item_once_across_restarts(
    server: FeedServer, tmp_path: Path
) -> None:
    server.routes["/feed"] = conditional(rss(ITEMS), '"v1"')
    settings = settings_for(tmp_path, {"one": server.url("/feed")})
    bus = MemoryBus()
    role = make_role(settings, bus)
    assert role.run_once() == 2
    assert role.run_once() == 0
    role.close()
    again = make_role(settings, bus)
    assert again.run_once() == 0
    again.close()
    articles = published(bus, settings)
    assert [a.title for a in articles] == ["First", "Second"]
    first, second = articles
    assert first.text == "Body one." and first.text_source == "content"
    assert first.published == "2025-06-10T04:00:00Z"
    assert second.text == "Body two.\nMore."
    assert len(server.hits("/feed")) == 3
    # The validators survive the restart too: the new role asks conditionally.
    assert [r.headers.get("if-none-match") for r in server.hits("/feed")] == [
        None, '"v1"', '"v1"'
    ]
    keys = [r.key for r in bus.records_in(settings.bus.topics.articles)]
    assert keys == [first.id, second.id]


def test_same_article_from_two_feeds_is_one_article_with_both_sources(
    server: FeedServer, tmp_path: Path
) -> None:
    server.routes["/a"] = Reply(200, rss([ITEMS[1]]))
    tracked = dict(ITEMS[1], link="https://news.example.org/a2?utm_medium=x&fbclid=1")
    server.routes["/b"] = Reply(200, rss([tracked]))
    settings = settings_for(tmp_path, {"a": server.url("/a"), "b": server.url("/b")})
    bus = MemoryBus()
    role = make_role(settings, bus)
    assert role.run_once() == 1
    role.close()
    (article,) = published(bus, settings)
    assert {s.feed_id for s in article.sources} == {"a", "b"}


def recorded_feeds(settings: Settings, bus: MemoryBus, article_id: str) -> list[str]:
    return [s.feed_id for s in recorded_articles(settings, bus)[article_id].sources]


def test_article_seen_later_in_another_feed_is_published_again_with_both_sources(
    server: FeedServer, tmp_path: Path
) -> None:
    server.routes["/a"] = Reply(200, rss([ITEMS[0]]))
    server.routes["/b"] = Reply(200, rss([ITEMS[0]], title="Other"))
    bus = MemoryBus()
    first = make_role(settings_for(tmp_path, {"a": server.url("/a")}), bus)
    assert first.run_once() == 1
    first.close()
    # A restart with feed b added: b carries the article a published.
    settings = settings_for(tmp_path, {"a": server.url("/a"), "b": server.url("/b")})
    second = make_role(settings, bus)
    assert second.run_once() == 1
    # b changes, so it is parsed again (here and after another restart), but
    # its source is recorded: nothing more is published.
    server.routes["/b"] = Reply(200, rss([ITEMS[0]], title="Other, edited"))
    assert second.run_once() == 0
    second.close()
    server.routes["/b"] = Reply(200, rss([ITEMS[0]], title="Other, edited again"))
    third = make_role(settings, bus)
    assert third.run_once() == 0
    third.close()
    assert len(server.hits("/b")) == 3
    original, again = published(bus, settings)
    assert again.id == original.id
    assert [s.feed_id for s in original.sources] == ["a"]
    assert again.sources[0] == original.sources[0]
    assert [s.feed_id for s in again.sources] == ["a", "b"]
    assert again.text == original.text
    assert recorded_feeds(settings, bus, again.id) == ["a", "b"]


@pytest.mark.parametrize("b_from_the_start", [False, True], ids=["b-added-later", "b-alongside"])
def test_polling_loop_publishes_a_later_source_once(
    server: FeedServer, tmp_path: Path, b_from_the_start: bool
) -> None:
    """In the polling loop, b's poll comes after a's article was published:
    either later, or concurrently (both polls found it new; a's was published first)."""
    server.routes["/a"] = Reply(200, rss([ITEMS[0]]))
    server.routes["/b"] = Reply(200, rss([ITEMS[0]], title="Other"))
    fast: dict[str, Any] = {"min_interval_s": 0.2, "default_interval_s": 0.2,
                            "interval_jitter": 0.0}
    both = settings_for(tmp_path, {"a": server.url("/a"), "b": server.url("/b")}, **fast)
    settings = both if b_from_the_start else settings_for(
        tmp_path, {"a": server.url("/a")}, **fast)
    bus = MemoryBus()
    role = make_role(settings, bus)
    topic = settings.bus.topics.articles
    stop = threading.Event()
    worker = threading.Thread(target=role.run, args=(stop,))
    worker.start()
    try:
        if not b_from_the_start:
            eventually(lambda: len(bus.records_in(topic)) == 1)
            role.reload(both)
        eventually(lambda: len(bus.records_in(topic)) == 2)
        server.routes["/b"] = Reply(200, rss([ITEMS[0]], title="Other, edited"))
        polled = len(server.hits("/b"))
        eventually(lambda: len(server.hits("/b")) >= polled + 2)
    finally:
        stop.set()
        worker.join(timeout=10)
        role.close()
    assert not worker.is_alive()
    first, again = published(bus, settings)
    assert again.id == first.id
    assert len(first.sources) == 1
    assert {s.feed_id for s in again.sources} == {"a", "b"}
    assert again.sources[0] == first.sources[0]
    assert recorded_feeds(settings, bus, first.id) == [s.feed_id for s in again.sources]


def test_broken_feed_is_reported_and_others_go_on(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/good"] = Reply(200, rss([ITEMS[0]]))
    server.routes["/html"] = Reply(200, b"<html><body><p>hello</p></body></html>",
                                   {"Content-Type": "text/html"})
    settings = settings_for(
        tmp_path, {"good": server.url("/good"), "bad": server.url("/html")},
        broken_after_failures=2,
    )
    bus = MemoryBus()
    role = make_role(settings, bus)
    assert role.run_once() == 1
    role.run_once()
    role.close()
    health = {h.feed_id: h for h in read_health(settings.state_dir)}
    assert health["good"].health == "ok"
    assert health["bad"].health == "broken"
    assert health["bad"].last_error is not None and "not a feed" in health["bad"].last_error


def test_permanent_redirect_moves_the_stored_feed_url(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/old"] = Reply(308, headers={"Location": "/new"})
    server.routes["/new"] = conditional(rss(ITEMS[:1]), '"n1"')
    settings = settings_for(tmp_path, {"moved": server.url("/old")})
    role = make_role(settings, MemoryBus())
    assert role.run_once() == 1
    role.close()
    again = make_role(settings, MemoryBus())
    assert again.run_once() == 0
    again.close()
    assert len(server.hits("/old")) == 1
    assert [r.headers.get("if-none-match") for r in server.hits("/new")] == [None, '"n1"']
    (health,) = read_health(settings.state_dir)
    assert health.url == server.url("/new")


def test_shared_feed_list_needs_the_kafka_bus(tmp_path: Path) -> None:
    from monitor.errors import ConfigError

    settings = settings_for(tmp_path, {}, sharing="kafka")
    with pytest.raises(ConfigError, match=r"poller\.sharing"):
        make_role(settings, MemoryBus())
