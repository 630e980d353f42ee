"""``monitor demo``: the whole pipeline in one process against bundled demo feeds.

Serves ``config/demo/site`` on a loopback port (``{{BASE}}`` in a file is
replaced by the server's address, so feed links point back at it), starts a
loopback webhook receiver that prints every notification it is sent (a story:
each statement with its speaker, rules and matched words), and runs one
pass of poller → NLP → alerts → delivery on the embedded bus.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.ops.logs import configure_logging

DEMO_DIR = Path(__file__).resolve().parent.parent / "config" / "demo"


class _SiteHandler(BaseHTTPRequestHandler):
    server: StaticSite
    # Connections are kept open between requests, as a real site's are; every
    # response says its length.
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        relative = self.path.split("?", 1)[0].lstrip("/")
        target = (self.server.root / relative).resolve()
        if not target.is_file() or self.server.root not in target.parents:
            self.send_error(404)
            return
        body = target.read_bytes().replace(b"{{BASE}}", self.server.base_url.encode())
        kind = {".xml": "application/rss+xml", ".atom": "application/atom+xml"}.get(
            target.suffix, "text/html; charset=utf-8"
        )
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep the demo's output clean
        return


class _LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server whose kept-alive connections end with it.

    Closing it also shuts the connections it still holds, as a stopped process's
    would be: otherwise a client's kept-alive connection would go on being
    served by its handler thread after the server stopped listening.
    """

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # The handler thread then reads the end of the stream and closes it.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class StaticSite(_LoopbackServer):
    """Serves a folder on a loopback port; ``{{BASE}}`` in files becomes the site's URL."""

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _SiteHandler)
        self.root = root.resolve()
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"


@dataclass(frozen=True)
class ReceivedAlert:
    """One POST a receiver got: its headers, raw body and parsed JSON."""

    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver
    # Kept-alive connections, as a real receiver's are: with HTTP/1.0 every
    # notification paid for a new connection and a new server thread.
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            self.send_error(400, "body is not JSON")
            return
        received = ReceivedAlert(dict(self.headers.items()), body, payload)
        with self.server.lock:
            self.server.received.append(received)
        if self.server.on_alert is not None:
            self.server.on_alert(received)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


class WebhookReceiver(_LoopbackServer):
    """A loopback webhook endpoint that keeps every alert it is sent."""

    def __init__(
        self, on_alert: Callable[[ReceivedAlert], None] | None = None, port: int = 0
    ) -> None:
        super().__init__(("127.0.0.1", port), _ReceiverHandler)
        self.received: list[ReceivedAlert] = []
        self.lock = threading.Lock()
        self.on_alert = on_alert
        self.url = f"http://127.0.0.1:{self.server_address[1]}/alerts"


def describe_alert(received: ReceivedAlert) -> str:
    """One readable block per payload: a story (``story/1``) as a heading and each
    statement with its speaker, rules and matched words; an alert (``alert/2``)
    as one statement."""
    payload = received.payload
    if str(payload.get("schema", "")).startswith("story/"):
        return _describe_story(payload)
    statement = payload.get("statement", {})
    article = payload.get("article", {})
    tags = ", ".join(statement.get("tags", [])) or "-"
    matched = ", ".join(dict.fromkeys(m.get("text", "") for m in payload.get("matches", [])))
    return (
        f"ALERT [{payload.get('severity', '?')}] rule={payload.get('rule', '?')} tags={tags}\n"
        f"  {_said(statement)}\n"
        f"    matched: {matched or '-'}\n"
        f"  {article.get('title', '')} <{article.get('url', '')}>"
    )


def _describe_story(story: dict[str, Any]) -> str:
    article = story.get("article", {})
    revision = story.get("revision", 1)
    kind = "STORY" if revision == 1 else f"STORY UPDATE (revision {revision})"
    lines = [
        f"{kind} [{story.get('severity', '?')}] {article.get('title', '')}",
        f"  <{article.get('url', '')}> sources: {len(story.get('sources', []))}",
    ]
    for item in story.get("statements", []):
        fired = item.get("rules", [])
        rules = ", ".join(f.get("rule", "?") for f in fired)
        words = ", ".join(dict.fromkeys(m.get("text", "") for f in fired
                                        for m in f.get("matches", [])))
        tags = ", ".join(item.get("statement", {}).get("tags", [])) or "-"
        lines.append(f"  - {_said(item.get('statement', {}))}")
        lines.append(f"    rules: {rules}; matched: {words or '-'}; tags: {tags}")
    return "\n".join(lines)


def _said(statement: dict[str, Any]) -> str:
    speaker = statement.get("speaker") or "unattributed"
    return f"{speaker}: {str(statement.get('text', '')).strip()}"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """Serve on a background thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@click.command("demo")
@click.option("--verbose", is_flag=True, help="Show the monitor's log on stderr.")
def demo_command(verbose: bool) -> None:
    """Run the pipeline once over the bundled demo feeds and print the alerts."""
    site = StaticSite(DEMO_DIR / "site")
    receiver = WebhookReceiver(on_alert=lambda alert: click.echo(describe_alert(alert)))
    with serving(site), serving(receiver), tempfile.TemporaryDirectory() as state:
        environ = dict(os.environ)
        environ.update(
            DEMO_BASE=site.base_url, DEMO_WEBHOOK=receiver.url, MONITOR_STATE_DIR=state
        )
        settings = load_settings(DEMO_DIR / "monitor.yaml", environ=environ)
        level = "INFO" if verbose else "ERROR"
        configure_logging(settings.ops.model_copy(update={"log_level": level}))
        click.echo(f"demo: serving {len(settings.feeds)} feeds at {site.base_url}", err=True)
        daemon = Daemon(settings, settings.roles)
        try:
            handled = daemon.run_once()
        finally:
            daemon.close()
        click.echo(f"demo: {handled} items handled, {summary(receiver.received)}", err=True)


def summary(received: list[ReceivedAlert]) -> str:
    """How many notifications arrived, for how many stories (or how many alerts)."""
    stories = {r.payload.get("id") for r in received
               if str(r.payload.get("schema", "")).startswith("story/")}
    if not stories:
        return f"{len(received)} alerts delivered"
    return f"{len(received)} notifications delivered for {len(stories)} stories"
