"""Loopback servers for daemon tests.

* :class:`FeedSite`: one RSS feed the test can add items to, and one feed
  that always fails (to make a feed broken).
* :class:`GatedReceiver`: a webhook receiver that holds every call until its
  gate opens and counts an alert as delivered only when it answered 204.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Item:
    slug: str
    title: str
    text: str


class FeedSite(ThreadingHTTPServer):
    """``/feed.xml`` (any query string) lists :attr:`items`; any other path answers 500."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.Lock()
        self.items: list[Item] = []
        #: Paths of every feed request, in order (query string included).
        self.fetched: list[str] = []

    def add(self, *items: Item) -> None:
        with self.lock:
            self.items.extend(items)

    def article_url(self, item: Item) -> str:
        return f"{self.base_url}/articles/{item.slug}.html"

    def rss(self) -> bytes:
        with self.lock:
            items = list(self.items)
        published = format_datetime(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
        entries = "".join(
            f"<item><title>{escape(i.title)}</title><link>{self.article_url(i)}</link>"
            f'<guid isPermaLink="false">site-{i.slug}</guid><pubDate>{published}</pubDate>'
            f"<description>{escape(i.text)}</description></item>"
            for i in items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Loopback Wire</title><link>{self.base_url}/</link>"
            f"<description>Invented stories for daemon tests.</description>{entries}"
            "</channel></rss>"
        ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: FeedSite

    def do_GET(self) -> None:
        if self.path.startswith("/feed.xml"):
            with self.server.lock:
                self.server.fetched.append(self.path)
            body = self.server.rss()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:  # /broken.xml and anything else: a server that is down
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def interference_items(count: int, first: int = 0) -> list[Item]:
    """``count`` articles whose one statement each trips the interference rule.

    Every statement carries words no other has (a serial number spelt out and
    a distinct place), so story de-duplication keeps them apart.
    """
    places = ["Arbor", "Brisk", "Cedar", "Dunmore", "Elmstead", "Fallow", "Garnet", "Hollin"]
    items = []
    for n in range(first, first + count):
        code = "".join(chr(ord("a") + int(d)) for d in f"{n:04d}")
        place = places[n % len(places)]
        items.append(
            Item(
                slug=f"story-{n:04d}",
                title=f"Bulletin {code} from {place}",
                text=(
                    f"Spokesman Orvel{code} in {place}{code} warned the Republic of Zembla "
                    f"against interfering in the provincial ballot, dispatch {code}{n}."
                ),
            )
        )
    return items


class GatedReceiver(ThreadingHTTPServer):
    """Webhook endpoint; calls wait for :attr:`gate` (503 if it stays shut for ``hold_s``)."""

    daemon_threads = True

    def __init__(self, hold_s: float = 60.0) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/alerts"
        self.gate = threading.Event()
        self.hold_s = hold_s
        self.lock = threading.Lock()
        self.calls = 0
        #: Alert payloads answered with 204, in order.
        self.delivered: list[dict[str, Any]] = []


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: GatedReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.calls += 1
        if not self.server.gate.wait(self.server.hold_s):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.loads(body)
        with self.server.lock:
            self.server.delivered.append(payload.get("alert", payload))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return
