"""The daemon's HTTP side: metrics, probes and the status page.

Endpoints:

``/healthz``      200 while the process answers (never needs the token).
``/readyz``       200 or 503 with JSON reasons; see :mod:`monitor.ops.readiness`.
``/metrics``      Prometheus text exposition of the daemon's registry.
``/``             the status page (``?q=`` searches alert history).
``/fragment``     the live part of the page, fetched by its refresh script.
``/api/status``   the same data as JSON, for scripts.
``POST /feeds/poll-now``  ``{"feeds": [ids]}`` or ``{"all": true}``: the poller
                  polls them at once (``monitor feeds poll-now``). Accepted only
                  from a loopback client, with ``Content-Type: application/json``
                  (which a cross-site form cannot send without a preflight this
                  server never grants), and with the token when one is set.

Every path also answers ``HEAD`` with the status and headers ``GET`` would
give, and no body.

It is the standard library's :class:`~http.server.ThreadingHTTPServer`: the
traffic is a scrape every few seconds and a person or two, the page is
rendered in a few milliseconds, and it adds no dependency or event loop to
the daemon. Its resources are bounded all the same: a connection whose
client sends or reads nothing for ``ops.http_timeout_s`` is closed (one
request per connection, HTTP/1.0, so there are no idle keep-alives either),
and at most ``ops.http_max_connections`` are served at once, each on its own
thread; one more is answered ``503`` with ``Retry-After`` and closed. It
binds to ``ops.http_host`` (loopback by default, since the page shows alert
history). When ``ops.http_token`` is set, every request except ``/healthz``
needs ``Authorization: Bearer <token>`` or ``?token=``, compared in constant
time.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from dataclasses import asdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.errors import PermanentError
from monitor.ops.history import HistorySampler, MetricsHistory
from monitor.ops.page import PageData, RoleRow, render_live, render_page
from monitor.ops.readiness import (
    Readiness,
    articles_by_language,
    assess_readiness,
    lag_by_group,
    stalled_stages,
)
from monitor.ops.sources import (
    AlertHistory,
    FeedHealthSource,
    open_alert_history,
    open_feed_health,
)

if TYPE_CHECKING:
    from monitor.daemon import Daemon

log = logging.getLogger(__name__)

ALERTS_SHOWN = 50
QUERY_MAX = 200
#: Largest request body a POST may carry (a list of feed ids).
POST_MAX_BYTES = 64 * 1024


class OpsServerError(PermanentError):
    """The ops endpoint could not start (address in use, not permitted)."""

    reason = "ops_server"


class OpsApp:
    """What the endpoints read: the daemon, its metrics history and the data sources."""

    def __init__(
        self,
        daemon: Daemon,
        history: MetricsHistory,
        alerts: AlertHistory,
        feeds: FeedHealthSource,
    ) -> None:
        self.daemon = daemon
        self.history = history
        self.alerts = alerts
        self.feeds = feeds

    @property
    def token(self) -> str | None:
        secret = self.daemon.settings.ops.http_token  # follows SIGHUP reloads
        # An empty value (e.g. an unset variable in Compose) means no token, not "".
        return (secret.get_secret_value() if secret is not None else "") or None

    def readiness(self) -> Readiness:
        d = self.daemon
        return assess_readiness(
            stopping=d.stopping,
            bus_reachable=d.bus.reachable(),
            roles_running=[(s.name, s.running) for s in d.role_states],
            lag=lag_by_group(d.metrics.registry),
            max_lag=d.settings.ops.ready_max_lag,
            stalled=stalled_stages(d.metrics.registry),
        )

    def page_data(self, query: str, token: str | None) -> PageData:
        query = query.strip()[:QUERY_MAX]
        try:
            alerts = (
                self.alerts.search(query, ALERTS_SHOWN)
                if query
                else self.alerts.recent(ALERTS_SHOWN)
            )
        except Exception as exc:  # a broken store must not take the page down
            log.warning("status page: reading alert history failed: %s", exc)
            alerts = ()
        try:
            feeds = self.feeds.feeds()
        except Exception as exc:
            log.warning("status page: reading feed health failed: %s", exc)
            feeds = ()
        return PageData(
            now=self.daemon.clock.now(),
            started_at=self.daemon.started_at,
            readiness=self.readiness(),
            roles=[
                RoleRow(s.name, s.running, s.restarts, s.last_error)
                for s in self.daemon.role_states
            ],
            alerts=alerts,
            query=query,
            feeds=feeds,
            points=self.history.points(),
            token=token,
            languages=articles_by_language(self.daemon.metrics.registry),
            receivers=self.daemon.watch.health(),
        )


class OpsServer:
    """A running ops endpoint; ``close()`` stops it and its sampler."""

    def __init__(self, httpd: _Server, sampler: HistorySampler) -> None:
        self._httpd = httpd
        self._sampler = sampler
        self.host, self.port = httpd.server_address[:2]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="ops-http", daemon=True
        )

    def start(self) -> None:
        self._sampler.start()
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._sampler.close()
        self._httpd.app.alerts.close()


def start_ops_server(daemon: Daemon) -> OpsServer:
    """Bind ``ops.http_host:http_port`` (port 0: any free port) and serve in the background."""
    ops = daemon.settings.ops
    history = MetricsHistory(daemon.metrics.registry, daemon.clock, interval_s=ops.history_sample_s)
    app = OpsApp(
        daemon,
        history,
        open_alert_history(daemon.settings),
        open_feed_health(lambda: daemon.settings),
    )
    try:
        httpd = _Server(
            (ops.http_host, ops.http_port),
            timeout_s=ops.http_timeout_s,
            max_connections=ops.http_max_connections,
        )
    except OSError as exc:
        raise OpsServerError(
            f"ops: cannot listen on {ops.http_host}:{ops.http_port}: {exc.strerror or exc}"
        ) from exc
    httpd.app = app
    server = OpsServer(httpd, HistorySampler(history))
    server.start()
    log.info(
        "ops endpoint on http://%s:%d/ (metrics, healthz, readyz, status page)",
        server.host,
        server.port,
        extra={"host": server.host, "port": server.port},
    )
    return server


#: The answer to a connection beyond ``ops.http_max_connections``.
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 5\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"busy\n"
)
#: How long the accepting thread spends on refusing one connection, at most.
_BUSY_DRAIN_S = 0.5


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` of them at once."""

    daemon_threads = True
    app: OpsApp

    def __init__(self, address: tuple[str, int], *, timeout_s: float, max_connections: int) -> None:
        super().__init__(address, _Handler)
        self.request_timeout_s = timeout_s
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.debug("ops http: all %d connections busy, refusing one", self.max_connections)
            _refuse(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # starts the thread
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer; not worth a traceback on stderr.
        log.debug("ops http: connection dropped", exc_info=True)


def _refuse(request: socket.socket) -> None:
    """Answer 503 on a connection there is no thread for, then read what the
    client sent (briefly) so that closing does not reset the connection
    before the client has read the answer."""
    deadline = time.monotonic() + _BUSY_DRAIN_S
    try:
        request.settimeout(_BUSY_DRAIN_S)
        request.sendall(_BUSY)
        request.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            request.settimeout(left)
            if not request.recv(65536):
                break
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "news-monitor"
    sys_version = ""
    #: True while answering HEAD: everything as for GET but the body.
    _head: bool = False

    def setup(self) -> None:
        super().setup()
        # Every read and write on the connection waits at most this long; an
        # idle client is dropped (handle_one_request catches the timeout).
        self.connection.settimeout(self.server.request_timeout_s)

    def do_HEAD(self) -> None:
        self._head = True
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        app = self.server.app
        if url.path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
            return
        if not self._authorised(app.token, params):
            self._send(
                HTTPStatus.UNAUTHORIZED,
                b"token required\n",
                "text/plain; charset=utf-8",
                {"WWW-Authenticate": 'Bearer realm="monitor"'},
            )
            return
        route = {
            "/readyz": self._readyz,
            "/metrics": self._metrics,
            "/": self._page,
            "/fragment": self._fragment,
            "/api/status": self._api_status,
        }.get(url.path)
        if route is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        route(params)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        app = self.server.app
        if not _is_loopback(self.client_address[0]):
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "only from this machine"})
            return
        if not self._authorised(app.token, parse_qs(url.query)):
            self._send_json(HTTPStatus.UNAUTHORIZED, {"error": "token required"})
            return
        if url.path != "/feeds/poll-now":
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        request = self._json_body()
        if request is None:
            return
        self._poll_now(request)

    # -- routes -----------------------------------------------------------------
    def _poll_now(self, request: Any) -> None:
        feeds = request.get("feeds") if isinstance(request, dict) else None
        every = isinstance(request, dict) and request.get("all") is True
        valid = isinstance(feeds, list) and feeds and all(isinstance(f, str) for f in feeds)
        if every == bool(valid):
            self._send_json(HTTPStatus.BAD_REQUEST,
                            {"error": 'give {"feeds": [ids]} or {"all": true}'})  # fmt: skip
            return
        outcome = self.server.app.daemon.poll_now(None if every else feeds)
        if outcome is None:
            self._send_json(HTTPStatus.CONFLICT, {"error": "no poller role runs in this process"})
            return
        due, unknown = outcome
        log.info("poll now requested for %s", ", ".join(due) or "no feed")
        self._send_json(HTTPStatus.OK, {"polling": due, "unknown": unknown})

    def _readyz(self, params: dict[str, list[str]]) -> None:
        """The process's readiness; ``receivers`` is detail that never changes the verdict
        (a receiver that is down is its own problem, not a reason to stop routing
        traffic to this process): see docs/operations.md."""
        app = self.server.app
        verdict = app.readiness()
        status = HTTPStatus.OK if verdict.ready else HTTPStatus.SERVICE_UNAVAILABLE
        self._send_json(status, {
            "ready": verdict.ready,
            "reasons": list(verdict.reasons),
            "receivers": [asdict(h) for h in app.daemon.watch.health()],
        })  # fmt: skip

    def _metrics(self, params: dict[str, list[str]]) -> None:
        body = generate_latest(self.server.app.daemon.metrics.registry)
        self._send(HTTPStatus.OK, body, CONTENT_TYPE_LATEST)

    def _page(self, params: dict[str, list[str]]) -> None:
        nonce = secrets.token_urlsafe(16)
        data = self.server.app.page_data(_first(params, "q"), _first(params, "token") or None)
        self._send(
            HTTPStatus.OK,
            render_page(data, nonce).encode(),
            "text/html; charset=utf-8",
            {"Content-Security-Policy": _csp(nonce)},
        )

    def _fragment(self, params: dict[str, list[str]]) -> None:
        data = self.server.app.page_data(_first(params, "q"), None)
        self._send(
            HTTPStatus.OK,
            render_live(data, "fragment").encode(),
            "text/html; charset=utf-8",
            {"Content-Security-Policy": _csp(None)},
        )

    def _api_status(self, params: dict[str, list[str]]) -> None:
        data = self.server.app.page_data(_first(params, "q"), None)
        self._send_json(
            HTTPStatus.OK,
            {
                "ready": data.readiness.ready,
                "reasons": list(data.readiness.reasons),
                "roles": [asdict(r) for r in data.roles],
                "receivers": [asdict(r) for r in data.receivers],
                "feeds": [asdict(f) for f in data.feeds],
                "alerts": [
                    {k: v for k, v in asdict(a).items() if k != "segments"} for a in data.alerts
                ],
                "history": [asdict(p) for p in data.points],
            },
        )

    # -- plumbing ---------------------------------------------------------------
    def _json_body(self) -> Any | None:
        """The request's JSON body, or None after answering why it is refused."""
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            self._send_json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send application/json"})
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= POST_MAX_BYTES:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "a Content-Length up to 64 KiB"})
            return None
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "the body is not JSON"})
            return None

    def _authorised(self, token: str | None, params: dict[str, list[str]]) -> bool:
        if token is None:
            return True
        header = self.headers.get("Authorization", "")
        offered = header[7:] if header.startswith("Bearer ") else _first(params, "token")
        return hmac.compare_digest(offered.encode(), token.encode())

    def _send_json(self, status: HTTPStatus, payload: Any) -> None:
        body = json.dumps(payload, indent=1).encode()
        self._send(status, body, "application/json")

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")  # ?token= must not leak via links
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not self._head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line may carry ?token=; log the path only, and quietly.
        # (A connection that timed out before its request line has neither.)
        path = getattr(self, "path", "")
        log.debug("ops http %s %s", getattr(self, "command", None), urlsplit(path).path)


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def _first(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name)
    return values[0] if values else ""


def _csp(nonce: str | None) -> str:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"script-src {script}; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
