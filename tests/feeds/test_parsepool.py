"""Large feed bodies are parsed in worker processes under a time limit.

No timing is asserted: a hostile body is reported broken with its fixed
reason, the pool goes on parsing, and the other feeds of the poll are polled.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.feeds import parsepool
from monitor.feeds.errors import HostileFeed, NotAFeed
from monitor.feeds.health import read_health
from monitor.feeds.parsepool import ParsePool, ParseTimeout, PoolSettings
from monitor.feeds.parsing import parse_feed, parse_feed_inline
from monitor.feeds.role import PollerRole
from monitor.feeds.settings import PollerSettings
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.feeds.builders import rss, settings_for
from tests.feeds.httpserver import FeedServer, conditional

#: Seconds a test pool gives one parse; the hostile body needs far more.
LIMIT_S = 0.5


def hostile_body(items: int = 40_000) -> bytes:
    """Many tiny items: seconds of feedparser CPU for a few MB."""
    item = b"<item><title>t</title><guid>g%d</guid><description>d</description></item>"
    return (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
            + b"".join(item % i for i in range(items)) + b"</channel></rss>")


def large_feed() -> bytes:
    """A well-formed feed above the inline size, parsed in a worker."""
    items = [{"guid": f"https://news.example.org/{i}", "title": f"Story {i}",
              "description": "x" * 400} for i in range(200)]
    body = rss(items)
    assert len(body) > parsepool.INLINE_MAX_BYTES
    return body


@pytest.fixture
def pool() -> Iterator[ParsePool]:
    running = ParsePool(PoolSettings(workers=1, time_limit_s=LIMIT_S))
    yield running
    running.close()


def test_a_parse_over_the_limit_is_a_hostile_feed_and_the_worker_is_replaced(
    pool: ParsePool,
) -> None:
    with pytest.raises(ParseTimeout) as caught:
        pool.parse(hostile_body())
    assert isinstance(caught.value, HostileFeed)
    assert caught.value.reason == "parse_timeout" and caught.value.kind == "permanent"
    assert str(caught.value) == f"parsing took longer than {LIMIT_S:g}s; abandoned"
    body = large_feed()  # the one worker was replaced and parses as before
    assert pool.parse(body) == parse_feed_inline(body)


def test_a_worker_gives_the_same_feed_and_errors_as_parsing_inline(pool: ParsePool) -> None:
    body = large_feed()
    assert pool.parse(body, {"content-type": "application/rss+xml"}) == parse_feed_inline(body)
    with pytest.raises(NotAFeed, match="not a feed"):
        pool.parse(b"<html>" + b"x" * (parsepool.INLINE_MAX_BYTES + 1) + b"</html>")


def test_small_bodies_are_parsed_inline_large_ones_in_the_shared_pool() -> None:
    parsepool.configure_shared_pool(PoolSettings(workers=1, time_limit_s=LIMIT_S))
    try:
        small = rss([{"guid": "https://news.example.org/1", "title": "One"}])
        assert parse_feed(small).entries[0].title == "One"
        with pytest.raises(ParseTimeout):
            parse_feed(hostile_body())
    finally:
        parsepool.close_shared_pool()
        parsepool.configure_shared_pool(PoolSettings())


def test_a_hostile_feed_is_reported_broken_and_the_other_feeds_are_polled(
    tmp_path: Path,
) -> None:
    items = [{"guid": "https://news.example.org/a1", "title": "First"}]
    try:
        with FeedServer() as server:
            server.routes["/hostile"] = conditional(hostile_body(), '"h"')
            server.routes["/big"] = conditional(large_feed(), '"b"')
            server.routes["/small"] = conditional(rss(items), '"s"')
            settings = settings_for(tmp_path, {
                "hostile": server.url("/hostile"), "big": server.url("/big"),
                "small": server.url("/small"),
            }, fetch_pages=False, parse_workers=2, parse_time_limit_s=LIMIT_S)
            metrics = Metrics()
            bus = MemoryBus()
            role = PollerRole(RoleContext(settings, bus, metrics, SystemClock()))
            assert parsepool.shared_pool().settings == PoolSettings(
                workers=2, time_limit_s=LIMIT_S)
            handled = role.run_once()
            role.close()
    finally:
        parsepool.close_shared_pool()
        parsepool.configure_shared_pool(PoolSettings())
    assert handled == 201
    health = {row.feed_id: row for row in read_health(settings.state_dir)}
    assert health["hostile"].last_error is not None
    assert "parsing took longer than" in health["hostile"].last_error
    assert "\n" not in health["hostile"].last_error
    assert health["big"].last_error is None and health["small"].last_error is None
    errors = metrics.errors.labels(stage="poller", kind="permanent", reason="parse_timeout")
    assert errors._value.get() == 1


def test_monitor_parse_feed_parses_a_large_body_in_a_worker(tmp_path: Path) -> None:
    """``python -m monitor`` spawns its workers without running the command again."""
    from tests.support import run_monitor

    path = tmp_path / "large.xml"
    path.write_bytes(large_feed())
    result = run_monitor(None, "parse-feed", str(path))
    assert result.returncode == 0, result.stderr
    assert "Story 199" in result.stdout


def test_a_worker_starts_under_a_memory_cap_lower_than_its_own(tmp_path: Path) -> None:
    """A process capped below the workers' 1 GiB gives them its own cap, not an error."""
    import subprocess
    import sys

    from tests.support import REPO_ROOT

    path = tmp_path / "large.xml"
    path.write_bytes(large_feed())
    command = f'ulimit -v 900000; exec "{sys.executable}" -m monitor parse-feed "{path}"'
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Story 199" in result.stdout


def test_the_pool_is_configured_from_the_poller_section_and_restarted_only_on_a_change(
) -> None:
    settings = PollerSettings(parse_workers=3, parse_time_limit_s=2.5)
    assert PoolSettings.from_poller(settings) == PoolSettings(workers=3, time_limit_s=2.5)
    try:
        parsepool.configure_shared_pool(PoolSettings(workers=1, time_limit_s=LIMIT_S))
        running = parsepool.shared_pool()
        parsepool.configure_shared_pool(PoolSettings(workers=1, time_limit_s=LIMIT_S))
        assert parsepool.shared_pool() is running
        parsepool.configure_shared_pool(PoolSettings(workers=1, time_limit_s=2 * LIMIT_S))
        assert parsepool.shared_pool() is not running
        assert parsepool.shared_pool().settings.time_limit_s == 2 * LIMIT_S
    finally:
        parsepool.close_shared_pool()
        parsepool.configure_shared_pool(PoolSettings())


@pytest.mark.parametrize("key, value", [
    ("parse_workers", 0), ("parse_workers", 33),
    ("parse_time_limit_s", 0), ("parse_time_limit_s", 301),
])
def test_parse_pool_keys_out_of_range_are_refused(key: str, value: float) -> None:
    with pytest.raises(ValidationError, match=key):
        PollerSettings.model_validate({key: value})
