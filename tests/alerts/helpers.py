"""Shared test helpers: fixture articles, settings, and real loopback receivers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.alerts.role import AlertRole, StoryRole
from monitor.alerts.settings import AlertSettings, ReceiverSettings
from monitor.config import Settings
from monitor.messages import ArticleRef, Source, Span, Statement, TaggedArticle
from monitor.roles import RoleContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alerts"
RULES_FILE = Path(__file__).resolve().parents[2] / "config" / "rules.yaml"


def tagged_article(
    name: str = "caracas-vote.json",
    *,
    article_id: str | None = None,
    feed_id: str | None = None,
    url: str | None = None,
    edit: Callable[[str], str] | None = None,
) -> TaggedArticle:
    """A TaggedArticle built from a fixture, offsets computed from the text."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    meta = data["article"]
    texts = [edit(s["text"]) if edit else s["text"] for s in data["body"]]
    title = meta["title"]
    document = title + "\n" + " ".join(texts)
    statements = []
    position = len(title) + 1
    for spec, text in zip(data["body"], texts, strict=True):
        start = document.index(text, position)
        entities = tuple(
            Span(e, start + text.index(e), start + text.index(e) + len(e), label)
            for e, label in spec["entities"] if e in text
        )
        statements.append(Statement(text=text, start=start, end=start + len(text),
                                    tags=tuple(spec["tags"]), speaker=spec["speaker"],
                                    entities=entities))
        position = start + len(text)
    feed = feed_id or meta["feed_id"]
    link = url or meta["url"]
    ref = ArticleRef(
        id=article_id or meta["id"], url=link, title=title, feed_id=feed,
        sources=(Source(feed_id=feed, feed_url=f"http://127.0.0.1/feeds/{feed}.xml",
                        entry_url=link),),
        published=meta["published"],
    )
    return TaggedArticle(article=ref, document=document, statements=tuple(statements))


def settings_for(
    tmp_path: Path,
    receivers: list[ReceiverSettings] | None = None,
    rules_file: Path = RULES_FILE,
    **alerts: Any,
) -> Settings:
    return Settings(
        rules_file=rules_file,
        state_dir=tmp_path / "state",
        alerts=AlertSettings(receivers=tuple(receivers or ()), **alerts),
    )


@dataclass
class Seen:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


#: (request number from 1, request) -> (status, extra headers, delay in seconds)
Behaviour = Callable[[int, Seen], tuple[int, dict[str, str], float]]


def always_ok(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
    return 200, {}, 0.0


@dataclass
class Receiver:
    """A real HTTP server on loopback that records every request."""

    behaviour: Behaviour = always_ok
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = Seen(self.path, dict(self.headers.items()), body, 0)
                with receiver._lock:
                    receiver.requests.append(seen)
                    number = len(receiver.requests)
                status, headers, delay = receiver.behaviour(number, seen)
                seen.status = status
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted_keys(self) -> list[str]:
        """Idempotency keys of the requests answered with 2xx."""
        return [s.headers.get("Idempotency-Key", "") for s in self.requests
                if 200 <= s.status < 300]


@contextmanager
def dripping_receiver(head: bytes, interval_s: float = 0.1, for_s: float = 5.0) -> Iterator[str]:
    """A loopback HTTP server that answers ``head`` then one byte every ``interval_s``.

    Each byte arrives well within any per-read timeout, so only a limit on the
    whole request ends it. It gives up after ``for_s`` (closing the connection)
    so that a client without such a limit fails a test instead of hanging it.
    Yields the URL to POST to.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(head)
            ends = time.monotonic() + for_s
            while time.monotonic() < ends and not stop.wait(interval_s):
                try:
                    conn.sendall(b"X")
                except OSError:
                    return  # the client gave up, as it should

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


class Sink:
    """The alert sink's first two stages, rule matching then the story decisions,
    each drained in turn: what the alerts role publishes to the alerts topic."""

    def __init__(self, ctx: RoleContext) -> None:
        self.matching = AlertRole(ctx)
        self.stories = StoryRole(ctx)

    def run_once(self) -> int:
        return self.matching.run_once() + self.stories.run_once()

    def close(self) -> None:
        self.matching.close()
        self.stories.close()
