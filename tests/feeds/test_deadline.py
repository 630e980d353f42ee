"""The total time limit holds even while a server drips its response headers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from monitor.feeds.errors import FetchTimeout
from monitor.feeds.fetcher import FetchRequest, HttpxFetcher
from monitor.feeds.settings import PollerSettings


@pytest.fixture
def header_drip() -> Iterator[int]:
    """A loopback server that sends one header byte every 0.2 s and never finishes."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.2):
                    try:
                        conn.sendall(b"X")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_dripping_headers_end_in_a_timeout_at_the_total_limit(header_drip: int) -> None:
    settings = PollerSettings(
        allow_private_addresses=True, read_timeout_s=1.0, total_timeout_s=1.5
    )
    fetcher = HttpxFetcher(settings)
    try:
        with pytest.raises(FetchTimeout, match="total time limit exceeded"):
            fetcher.fetch(FetchRequest(f"http://127.0.0.1:{header_drip}/feed.xml"))
    finally:
        fetcher.close()
