"""Feed servers that hang, reset connections or drip bytes (slowloris).

Raw sockets on loopback play the misbehaving server. With the poller's
timeouts set to connect 1 s / read 2 s / total 5 s, each poll must end with a
retryable error naming the feed, and a good feed polled in the same pass must
still be published. Elapsed times are recorded as figures; the bound is the
test timeout, not an assertion on time. An endless body at full speed ends at the
body-size cap instead (a permanent error).
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.bus.codec import decode
from monitor.bus.memory import MemoryBus
from monitor.errors import MonitorError, RetryableError
from monitor.feeds.fetcher import FetchRequest, HttpxFetcher
from monitor.feeds.health import read_health
from monitor.messages import Article
from tests.feeds.builders import rss, settings_for
from tests.feeds.helpers import Poller
from tests.reliability.harness import Results

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(40)]

GOOD_FEED = rss([{"guid": "https://wire.example/1", "link": "https://wire.example/1",
                  "title": "Observers question the election count",
                  "content": "<p>Observers questioned the count.</p>"}])
PASS_LIMIT_S = 30.0
MODES = ["hang", "reset", "header-drip", "body-drip", "endless-body"]


class _Misbehave(socketserver.BaseRequestHandler):
    server: MisbehavingServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(1.0)
        try:
            sock.recv(65536)  # the request
        except OSError:
            return
        mode = self.server.mode_of(self.client_address)
        stop = self.server.stopping
        try:
            if mode == "hang":
                stop.wait(60)
            elif mode == "reset":  # RST instead of an answer
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif mode == "header-drip":
                sock.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.5):
                    sock.sendall(b"X")  # one header byte at a time, never a line end
            elif mode in ("body-drip", "endless-body"):
                length = b"Content-Length: 40000000\r\n" if mode == "body-drip" else b""
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                             + length + b"Connection: close\r\n\r\n<rss>")
                pause = 0.5 if mode == "body-drip" else 0.0
                while not stop.wait(pause):
                    sock.sendall(b"<item>" if mode == "body-drip" else b"<item/>" * 4096)
        except OSError:
            return


class MisbehavingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Misbehave)
        self.stopping = threading.Event()
        self.port = self.server_address[1]
        self._paths: dict[int, str] = {}

    def mode_of(self, client: tuple[str, int]) -> str:
        return self.current

    current = "hang"


@pytest.fixture
def misbehaving() -> Iterator[MisbehavingServer]:
    server = MisbehavingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode", MODES)
def test_misbehaving_server_ends_in_a_retryable_error(
    mode: str, misbehaving: MisbehavingServer, tmp_path: Path, results: Results
) -> None:
    misbehaving.current = mode
    settings = settings_for(tmp_path, {}, connect_timeout_s=1.0, read_timeout_s=2.0,
                            total_timeout_s=5.0, max_body_bytes=50_000_000)
    fetcher = HttpxFetcher(settings.poller)
    started = time.monotonic()
    try:
        with pytest.raises(MonitorError) as caught:
            fetcher.fetch(FetchRequest(f"http://127.0.0.1:{misbehaving.port}/feed.xml"))
    finally:
        fetcher.close()
    elapsed = time.monotonic() - started
    results.record(f"feed-server-{mode}", outcome=type(caught.value).__name__,
                   message=str(caught.value), ended_after_s=elapsed)
    if mode != "endless-body":  # an endless body hits the size cap (permanent)
        assert isinstance(caught.value, RetryableError), caught.value
    assert "\n" not in str(caught.value)


class _Good(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(GOOD_FEED)
                             + GOOD_FEED)


def test_one_pass_over_hostile_servers_still_publishes_the_good_feed(tmp_path: Path) -> None:
    servers: dict[str, MisbehavingServer] = {}
    for mode in MODES:
        server = MisbehavingServer()
        server.current = mode
        servers[mode] = server
    good = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Good)
    good.daemon_threads = True
    everything: list[socketserver.BaseServer] = [*servers.values(), good]
    for each in everything:
        threading.Thread(target=each.serve_forever, daemon=True).start()
    feeds = {mode: f"http://127.0.0.1:{s.port}/feed.xml" for mode, s in servers.items()}
    feeds["good"] = f"http://127.0.0.1:{good.server_address[1]}/feed.xml"
    settings = settings_for(tmp_path, feeds, connect_timeout_s=1.0, read_timeout_s=2.0,
                            total_timeout_s=5.0, fetch_pages=False)
    bus = MemoryBus()
    bus.ensure_topics(settings.bus.topics.all())
    role = Poller(settings, bus)  # polling, then the publication decision
    # On a thread, so a pass that never ends fails this test instead of hanging the suite.
    poll = threading.Thread(target=role.run_once, daemon=True)
    try:
        poll.start()
        poll.join(PASS_LIMIT_S)
        assert not poll.is_alive(), f"the poll pass did not end within {PASS_LIMIT_S:.0f} s"
    finally:
        if not poll.is_alive():
            role.close()
        for server in servers.values():
            server.stopping.set()
        for each in everything:
            each.shutdown()
            each.server_close()
    published = [decode(r.value, Article) for r in bus.records_in(settings.bus.topics.articles)]
    assert [a.url for a in published] == ["https://wire.example/1"]
    health = {h.feed_id: h for h in read_health(settings.state_dir)}
    for mode in MODES:
        assert health[mode].last_error, f"{mode}: no error recorded"
    assert not health["good"].last_error
