"""A real HTTP server on loopback for feed tests: scripted replies per path.

Each path maps to a :class:`Reply` or to a function of the request that
returns one. Requests are recorded so tests can check conditional headers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Sleep this long before answering (to provoke read timeouts).
    delay_s: float = 0.0
    #: Stream this many filler bytes in chunks instead of ``body``.
    stream_bytes: int = 0
    #: Pause between streamed chunks (a server that drips its answer).
    chunk_delay_s: float = 0.0
    chunk_size: int = 64 * 1024


Route = Reply | Callable[[Request], Reply]


def conditional(body: bytes, etag: str, content_type: str = "application/rss+xml") -> Route:
    """A route that answers 304 when the client sends the current ETag."""

    def answer(request: Request) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, body, {"ETag": etag, "Content-Type": content_type})

    return answer


class FeedServer:
    """Threaded HTTP server bound to 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        request = Request(handler.path, {k.lower(): v for k, v in handler.headers.items()})
        with self._lock:
            self.requests.append(request)
        route = self.routes.get(handler.path.split("?")[0])
        reply = Reply(404, b"not found") if route is None else (
            route(request) if callable(route) else route
        )
        if reply.delay_s:
            time.sleep(reply.delay_s)
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.stream_bytes:
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for chunk in _chunks(reply.stream_bytes, reply.chunk_size):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                handler.wfile.flush()
                time.sleep(reply.chunk_delay_s)
            handler.wfile.write(b"0\r\n\r\n")
            return
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if reply.status != 304:
            handler.wfile.write(reply.body)


def _chunks(total: int, size: int) -> Iterator[bytes]:
    block = b"<item>" + b"x" * (size - 6)
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece
