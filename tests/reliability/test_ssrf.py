"""SSRF: feed and article URLs, and redirects, aimed at internal addresses.

With the production default (``allow_private_addresses: false``) every URL
that names or resolves to loopback, link-local (cloud metadata), private or
unspecified addresses must be refused by the address guard *before* any
connection is opened. A spy on ``socket.socket.connect`` records every
connection the process attempts; the only one allowed is to the loopback test
server explicitly listed in ``allowed_private_hosts``. No packet ever leaves
for a non-loopback address: refusal happens at validation or resolution.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.bus.codec import decode
from monitor.bus.memory import MemoryBus
from monitor.feeds.errors import RefusedUrl
from monitor.feeds.fetcher import FetchRequest, HttpxFetcher
from monitor.feeds.health import read_health
from monitor.feeds.settings import PollerSettings
from monitor.messages import Article
from tests.feeds.builders import rss, settings_for
from tests.feeds.helpers import Poller
from tests.feeds.httpserver import FeedServer, Reply

pytestmark = pytest.mark.reliability

INTERNAL_URLS = [
    "http://127.0.0.1/feed.xml",
    "http://127.1/feed.xml",
    "http://2130706433/feed.xml",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/feed.xml",
    "http://localhost/feed.xml",
    "http://[::1]/feed.xml",
    "http://[::ffff:127.0.0.1]/feed.xml",
    "http://0.0.0.0/feed.xml",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/feed.xml",
    "http://10.0.0.1/feed.xml",
    "http://10.255.255.254:8080/feed.xml",
    "http://172.16.0.1/feed.xml",
    "http://192.168.1.1/feed.xml",
    "http://100.64.0.1/feed.xml",  # carrier-grade NAT
    "https://[fd00::1]/feed.xml",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
]
#: The redirect and page tests allow-list the test server's host, 127.0.0.1 itself
#: (as operators allow-list an internal feed server); every other form must still fail.
HTTP_TARGETS = [u for u in INTERNAL_URLS
                if u.startswith("http") and not u.startswith("http://127.0.0.1/")]


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every address this process tries to connect a socket to."""
    seen: list[Any] = []
    real = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> None:
        seen.append(address)
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"connection attempted to {address}")
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    yield seen


def guarded(**overrides: Any) -> PollerSettings:
    base: dict[str, Any] = {"allow_private_addresses": False, "connect_timeout_s": 2.0,
                            "read_timeout_s": 2.0, "total_timeout_s": 5.0}
    return PollerSettings.model_validate({**base, **overrides})


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_feed_urls_are_refused_before_connecting(url: str, connections: list[Any]
                                                          ) -> None:
    fetcher = HttpxFetcher(guarded())
    try:
        with pytest.raises(RefusedUrl):
            fetcher.fetch(FetchRequest(url))
    finally:
        fetcher.close()
    assert connections == []


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.mark.parametrize("target", HTTP_TARGETS)
def test_redirects_toward_internal_addresses_are_refused(
    server: FeedServer, target: str, connections: list[Any]
) -> None:
    server.routes["/hop"] = Reply(status=302, headers={"Location": target})
    fetcher = HttpxFetcher(guarded(allowed_private_hosts=("127.0.0.1",)))
    try:
        with pytest.raises(RefusedUrl):
            fetcher.fetch(FetchRequest(server.url("/hop")))
    finally:
        fetcher.close()
    port = int(server.url("/").split(":")[2].split("/")[0])
    assert connections == [("127.0.0.1", port)], "only the allowed test server was contacted"


def test_article_links_to_internal_addresses_are_never_fetched(
    tmp_path: Path, server: FeedServer, connections: list[Any]
) -> None:
    """Entries with only a summary make the poller fetch the page — unless it is internal."""
    items = [{"guid": url, "link": url, "title": f"item {i}", "description": "summary only"}
             for i, url in enumerate(HTTP_TARGETS)]
    server.routes["/feed.xml"] = Reply(body=rss(items),
                                       headers={"Content-Type": "application/rss+xml"})
    settings = settings_for(tmp_path, {"internal": server.url("/feed.xml")},
                            allow_private_addresses=False, allowed_private_hosts=("127.0.0.1",),
                            fetch_pages=True)
    bus = MemoryBus()
    bus.ensure_topics(settings.bus.topics.all())
    role = Poller(settings, bus)  # polling, then the publication decision
    try:
        role.run_once()
    finally:
        role.close()
    published = [decode(r.value, Article) for r in bus.records_in(settings.bus.topics.articles)]
    assert published and {a.text_source for a in published} <= {"summary", "none"}
    assert len(set(connections)) == 1, connections
    assert read_health(settings.state_dir)
