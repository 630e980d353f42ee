"""The ops endpoint over real HTTP on loopback, backed by the real alert and feed stores."""

from __future__ import annotations

import dataclasses
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.alerts.store import AlertStore
from monitor.bus.kafka import KafkaBus
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.feeds.state import new_state
from monitor.feeds.store import PollerStore
from monitor.messages import Alert, ArticleRef, Evidence, Match, Statement
from monitor.ops.server import OpsServer, OpsServerError, start_ops_server
from monitor.ops.settings import OpsSettings
from tests.support import free_port, wait_for, write_config

TOKEN = "loopback-token-7f3a"
STATEMENT = "Officials warned Zembla against interfering <script>alert(1)</script> in the vote."
STATEMENT_START = 40  # where the statement sits in its article document


def sample_alert(alert_id: str = "a1", rule: str = "zembla-interference") -> Alert:
    word_at = STATEMENT.index("interfering")
    statement = Statement(
        text=STATEMENT,
        start=STATEMENT_START,
        end=STATEMENT_START + len(STATEMENT),
        tags=("foreign_interference",),
        evidence=(
            Evidence("foreign_interference", "warned", STATEMENT_START + 10, STATEMENT_START + 16),
        ),
    )
    return Alert(
        id=alert_id,
        rule=rule,
        severity="high",
        statement=statement,
        article=ArticleRef(id="art1", url="https://news.example/zembla", title="Zembla & the vote",
                           feed_id="wire"),
        matches=(Match("interfer*", "interfering", word_at, word_at + len("interfering")),),
        created_at="2026-11-26T20:00:00Z",
    )


def make_daemon(folder: Path, **ops: object) -> Daemon:
    config = write_config(
        folder, feeds=[("wire", "http://127.0.0.1:9/feed.xml"), ("gone", "http://127.0.0.1:9/x")],
        extra={"ops": {"http_port": 0, **ops}},
    )
    return Daemon(load_settings(config, environ={}), ())


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    made = make_daemon(tmp_path, http_token=TOKEN)
    state_dir = made.settings.state_dir
    store = AlertStore.in_dir(state_dir)
    store.record(sample_alert(), now=1000.0)
    store.record(
        dataclasses.replace(sample_alert("a2", "other-rule"), statement=Statement(
            text="Turnout in Arbor reached a record.", start=0, end=34)),
        now=1001.0,
    )
    store.close()
    feeds = PollerStore.in_state_dir(state_dir)
    broken = dataclasses.replace(
        new_state("gone", "http://127.0.0.1:9/x", 0.0), failures=7, last_error="HTTP 500"
    )
    feeds.save_state(broken, "broken")
    feeds.close()
    yield made
    made.close()


@pytest.fixture
def server(daemon: Daemon) -> Iterator[OpsServer]:
    running = start_ops_server(daemon)
    yield running
    running.close()


def url(server: OpsServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_binds_to_loopback_by_default(server: OpsServer) -> None:
    assert OpsSettings().http_host == "127.0.0.1"
    assert server.host == "127.0.0.1"


@pytest.mark.parametrize("path", ["/", "/metrics", "/readyz", "/fragment", "/api/status"])
def test_every_endpoint_but_healthz_refuses_requests_without_the_token(
    server: OpsServer, path: str
) -> None:
    assert httpx.get(url(server, path)).status_code == 401
    wrong = {"Authorization": "Bearer wrong"}
    assert httpx.get(url(server, path), headers=wrong).status_code == 401
    assert httpx.get(url(server, path), params={"token": TOKEN[:-1]}).status_code == 401
    assert httpx.get(url(server, path), headers=AUTH).status_code in (200, 503)
    assert httpx.get(url(server, path), params={"token": TOKEN}).status_code in (200, 503)


def test_healthz_needs_no_token(server: OpsServer) -> None:
    reply = httpx.get(url(server, "/healthz"))
    assert reply.status_code == 200 and reply.text == "ok\n"


def test_metrics_are_prometheus_text(server: OpsServer) -> None:
    reply = httpx.get(url(server, "/metrics"), headers=AUTH)
    assert reply.headers["content-type"].startswith("text/plain")
    assert "# TYPE monitor_polls_total counter" in reply.text
    assert "# TYPE monitor_consumer_lag gauge" in reply.text


def test_readyz_follows_lag_and_stopping(server: OpsServer, daemon: Daemon) -> None:
    assert httpx.get(url(server, "/readyz"), headers=AUTH).json() == {
        "ready": True, "reasons": [], "receivers": []}  # fmt: skip
    daemon.metrics.consumer_lag.labels("nlp", "monitor.articles", "0").set(5000)
    reply = httpx.get(url(server, "/readyz"), headers=AUTH)
    assert reply.status_code == 503
    assert reply.json()["reasons"] == ["consumer group nlp is 5000 records behind (max 1000)"]
    daemon.metrics.consumer_lag.labels("nlp", "monitor.articles", "0").set(0)
    daemon.stop_event.set()
    assert httpx.get(url(server, "/readyz"), headers=AUTH).json()["reasons"] == ["stopping"]


def test_readyz_says_when_the_kafka_bus_does_not_answer(tmp_path: Path) -> None:
    """A daemon with no consumer roles (a poller, say) still reports a dead broker."""
    dead = f"127.0.0.1:{free_port()}"
    config = write_config(
        tmp_path, feeds=[("wire", "http://127.0.0.1:9/feed.xml")],
        extra={"ops": {"http_port": 0},
               "bus": {"kind": "kafka", "kafka": {"bootstrap_servers": [dead],
                                                  "bootstrap_timeout_ms": 500}}},
    )
    settings = load_settings(config, environ={})
    # Built directly: open_bus() would refuse to start without a broker at all.
    made = Daemon(settings, (), bus=KafkaBus(settings.bus.kafka))
    running = start_ops_server(made)
    try:
        reply = httpx.get(url(running, "/readyz"), timeout=10)
        assert reply.status_code == 503
        assert reply.json()["reasons"] == ["the bus does not answer"]
    finally:
        running.close()
        made.close()


def test_status_page_shows_alerts_highlighted_and_escaped(server: OpsServer) -> None:
    reply = httpx.get(url(server, "/"), headers=AUTH)
    page = reply.text
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert '<mark class="match">interfering</mark>' in page
    assert '<mark class="evidence">warned</mark>' in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Zembla &amp; the vote" in page
    nonce = re.search(r"script-src 'nonce-([^']+)'", reply.headers["content-security-policy"])
    assert nonce and f'<script nonce="{nonce.group(1)}">' in page
    assert page.count("<script") == 1


def test_status_page_shows_the_broken_feed_first(server: OpsServer) -> None:
    page = httpx.get(url(server, "/"), headers=AUTH).text
    rows = re.findall(r'<tr class="feed feed-(\w+)" data-feed-id="([^"]+)"', page)
    assert rows[0] == ("broken", "gone")
    assert ("unknown", "wire") in rows
    assert "HTTP 500" in page


def test_search_filters_alert_history_and_keeps_the_token(server: OpsServer) -> None:
    page = httpx.get(url(server, "/"), params={"q": "turnout", "token": TOKEN}).text
    assert 'data-alert-id="a2"' in page and 'data-alert-id="a1"' not in page
    assert f'name="token" value="{TOKEN}"' in page
    assert 'value="turnout"' in page
    fragment = httpx.get(url(server, "/fragment"), params={"q": "zembla"}, headers=AUTH).text
    assert 'data-alert-id="a1"' in fragment and 'data-alert-id="a2"' not in fragment


def test_api_status_is_json(server: OpsServer) -> None:
    status = httpx.get(url(server, "/api/status"), headers=AUTH).json()
    assert [a["id"] for a in status["alerts"]] == ["a2", "a1"]
    assert status["feeds"][0]["state"] == "broken"


def test_page_works_without_any_state(tmp_path: Path) -> None:
    bare = make_daemon(tmp_path)
    running = start_ops_server(bare)
    try:
        page = httpx.get(url(running, "/")).text
        assert "No alerts yet." in page
    finally:
        running.close()
        bare.close()


def test_a_taken_port_is_a_one_line_error(tmp_path: Path) -> None:
    first = make_daemon(tmp_path / "one", http_port=free_port())
    running = start_ops_server(first)
    second = make_daemon(tmp_path / "two", http_port=running.port)
    try:
        with pytest.raises(OpsServerError, match=r"ops: cannot listen on 127\.0\.0\.1:\d+: "):
            start_ops_server(second)
    finally:
        running.close()
        first.close()
        second.close()


# -- HEAD, timeouts and the connection cap, on raw sockets ---------------------
#: Bound for every raw socket wait below: far longer than any answer takes.
SOCKET_BOUND_S = 15.0


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_BOUND_S) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def split_answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


#: Headers that may differ between two answers to the same request.
VARYING = {"date", "content-length", "content-security-policy"}


@pytest.mark.parametrize(
    "path", ["/healthz", "/readyz", "/metrics", "/", "/?q=zembla", "/fragment", "/api/status",
             "/nowhere"],
)
def test_head_answers_every_get_path_with_its_status_and_headers_and_no_body(
    server: OpsServer, path: str
) -> None:
    auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
    get = split_answer(raw_exchange(server.port, f"GET {path} HTTP/1.0\r\n".encode() + auth
                                    + b"\r\n"))
    status, headers, body = split_answer(
        raw_exchange(server.port, f"HEAD {path} HTTP/1.0\r\n".encode() + auth + b"\r\n")
    )
    assert status == get[0] != 501
    assert body == b""
    assert set(headers) == set(get[1])
    assert {k: v for k, v in headers.items() if k not in VARYING} == {
        k: v for k, v in get[1].items() if k not in VARYING
    }
    assert int(headers["content-length"]) > 0  # the length the GET body has


HEAD_METRICS = b"HEAD /metrics HTTP/1.0\r\n\r\n"
HEAD_HEALTHZ = b"HEAD /healthz HTTP/1.0\r\n\r\n"


def test_head_is_refused_without_the_token_like_get(server: OpsServer) -> None:
    status, headers, body = split_answer(raw_exchange(server.port, HEAD_METRICS))
    assert status == 401 and body == b""
    assert headers["www-authenticate"] == 'Bearer realm="monitor"'
    status, headers, body = split_answer(raw_exchange(server.port, HEAD_HEALTHZ))
    assert (status, headers["content-length"], body) == (200, "3", b"")


def test_an_idle_connection_is_closed_after_the_timeout(tmp_path: Path) -> None:
    """A client that connects and sends nothing does not keep a thread: the
    server closes the connection (timeout 0.5 s here; the test waits up to 15 s)."""
    made = make_daemon(tmp_path, http_timeout_s=0.5)
    running = start_ops_server(made)
    try:
        with socket.create_connection(("127.0.0.1", running.port), timeout=SOCKET_BOUND_S) as idle:
            assert idle.recv(1024) == b""  # end of stream, not our own timeout
        # A client that stops half-way through its request is dropped the same way.
        with socket.create_connection(("127.0.0.1", running.port), timeout=SOCKET_BOUND_S) as slow:
            slow.sendall(b"GET /healthz HTTP/1.0\r\nHost: x\r\n")
            assert slow.recv(1024) == b""
        assert httpx.get(url(running, "/healthz")).status_code == 200
    finally:
        running.close()
        made.close()


def test_connections_beyond_the_cap_are_answered_busy_until_a_slot_frees(
    tmp_path: Path
) -> None:
    made = make_daemon(tmp_path, http_max_connections=1, http_timeout_s=60)
    running = start_ops_server(made)
    try:
        with socket.create_connection(("127.0.0.1", running.port), timeout=SOCKET_BOUND_S) as held:
            held.sendall(b"GET /healthz HTTP/1.0\r\n")  # and not the end of the request
            status, headers, body = split_answer(
                raw_exchange(running.port, b"GET /healthz HTTP/1.0\r\n\r\n")
            )
            assert (status, headers["retry-after"], body) == (503, "1", b"busy\n")
        # The held connection is closed by its client: its slot comes back.
        wait_for(lambda: httpx.get(url(running, "/healthz")).status_code == 200, SOCKET_BOUND_S,
                 "the connection slot to be released")
    finally:
        running.close()
        made.close()
