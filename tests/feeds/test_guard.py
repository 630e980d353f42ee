"""The private-address guard at connection time: DNS rebinding, mixed answers, TLS names.

A stub resolver stands in for DNS (numeric hosts still resolve to themselves)
and a spy on ``socket.socket.connect`` records every connection attempt; an
attempt to anything but loopback fails at once (``ConnectionRefusedError``),
so no packet leaves the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpcore
import pytest

from monitor.feeds.errors import FetchUnreachable, RefusedUrl
from monitor.feeds.fetcher import FetchRequest, HttpxFetcher
from monitor.feeds.settings import PollerSettings
from monitor.http.guard import AddressGuardBackend, is_public, refusal
from tests.feeds.httpserver import FeedServer, Reply

PUBLIC = "93.184.216.34"
BODY = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
REAL_GETADDRINFO = socket.getaddrinfo

Answer = Callable[[str], list[str]]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        running.routes["/f"] = Reply(200, BODY)
        yield running


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket is connected to; only loopback is really contacted."""
    seen: list[Any] = []
    real = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> None:
        seen.append(address[:2])
        if address[0] not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(f"test: no connection to {address[0]}")
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return seen


def stub_dns(monkeypatch: pytest.MonkeyPatch, answer: Answer) -> list[str]:
    """Resolve names through ``answer`` (call by call); returns the names looked up."""
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name)
        except ValueError:
            asked.append(name)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))
                    for address in answer(name)]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def rebinding(*answers: list[str]) -> Answer:
    """A name whose answer changes with every lookup; the last answer repeats."""
    calls = 0

    def answer(_name: str) -> list[str]:
        nonlocal calls
        calls += 1
        return answers[min(calls, len(answers)) - 1]

    return answer


def guarded_fetcher() -> HttpxFetcher:
    return HttpxFetcher(PollerSettings(
        allow_private_addresses=False, connect_timeout_s=2.0, read_timeout_s=2.0,
        total_timeout_s=5.0, per_host_delay_s=0.0,
    ))


def fetch(url: str) -> None:
    client = guarded_fetcher()
    try:
        client.fetch(FetchRequest(url))
    finally:
        client.close()


def test_a_rebinding_name_is_connected_only_at_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch, server: FeedServer, connections: list[Any]
) -> None:
    """Public to the first lookup, loopback afterwards: the one lookup the guard
    makes is the one the connection uses, so 127.0.0.1 is never contacted."""
    asked = stub_dns(monkeypatch, rebinding([PUBLIC], ["127.0.0.1"]))
    port = int(server.base.rsplit(":", 1)[1])
    with pytest.raises(FetchUnreachable):
        fetch(f"http://feeds.rebind.test:{port}/f")
    assert connections == [(PUBLIC, port)]
    assert asked == ["feeds.rebind.test"]
    assert server.hits("/f") == []


def test_a_name_resolving_to_loopback_at_connect_time_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch, connections: list[Any]
) -> None:
    stub_dns(monkeypatch, lambda _name: ["127.0.0.1"])
    with pytest.raises(RefusedUrl, match=r"non-public address 127\.0\.0\.1"):
        fetch("http://feeds.rebind.test/f")
    assert connections == []


def test_one_private_address_among_public_ones_refuses_the_host(
    monkeypatch: pytest.MonkeyPatch, connections: list[Any]
) -> None:
    stub_dns(monkeypatch, lambda _name: [PUBLIC, "127.0.0.1"])
    with pytest.raises(RefusedUrl, match=r"non-public address 127\.0\.0\.1"):
        fetch("https://feeds.rebind.test/f")
    assert connections == []


def test_a_resolver_that_redirects_the_literal_address_is_caught(
    monkeypatch: pytest.MonkeyPatch, server: FeedServer
) -> None:
    """Should anything between the guard and the socket resolve the checked
    literal to another address, the stream's peer gives it away: no request is sent."""
    port = int(server.base.rsplit(":", 1)[1])

    def getaddrinfo(host: Any, port_: Any, *args: Any, **kwargs: Any) -> Any:
        target = "127.0.0.1" if host in ("feeds.rebind.test", PUBLIC) else host
        return REAL_GETADDRINFO(target, port_, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr("monitor.http.guard.resolve", lambda host, port: [PUBLIC])
    with pytest.raises(RefusedUrl, match="instead of the checked address"):
        fetch(f"http://feeds.rebind.test:{port}/f")
    assert server.hits("/f") == []


def test_the_fetcher_goes_on_after_a_refused_connection(
    monkeypatch: pytest.MonkeyPatch, server: FeedServer
) -> None:
    stub_dns(monkeypatch, lambda name: ["127.0.0.1"])
    client = HttpxFetcher(PollerSettings(
        allow_private_addresses=False, allowed_private_hosts=("127.0.0.1",), per_host_delay_s=0.0
    ))
    port = int(server.base.rsplit(":", 1)[1])
    try:
        with pytest.raises(RefusedUrl):
            client.fetch(FetchRequest(f"http://feeds.rebind.test:{port}/f"))
        assert client.fetch(FetchRequest(server.url("/f"))).body == BODY
    finally:
        client.close()


class _Stream(httpcore.NetworkStream):
    """A connected socket as far as httpcore can tell; answers one 200."""

    def __init__(self, peer: str, log: dict[str, Any]) -> None:
        self._peer = peer
        self._log = log
        self._answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        answer, self._answer = self._answer, b""
        return answer

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._log["sent"] = self._log.get("sent", b"") + buffer

    def close(self) -> None:
        pass

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        self._log["server_hostname"] = server_hostname
        return self

    def get_extra_info(self, info: str) -> Any:
        return (self._peer, 443) if info == "server_addr" else None


class _Backend(httpcore.NetworkBackend):
    def __init__(self, log: dict[str, Any]) -> None:
        self._log = log

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        self._log["connected"] = (host, port)
        return _Stream(host, self._log)


def test_https_connects_by_checked_address_but_keeps_the_name_for_tls_and_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub_dns(monkeypatch, lambda _name: [PUBLIC])
    log: dict[str, Any] = {}
    backend = AddressGuardBackend(_Backend(log), allow_private=False)
    with httpcore.ConnectionPool(network_backend=backend) as pool:
        response = pool.request("GET", "https://feeds.example/f")
    assert response.status == 200
    assert log["connected"] == (PUBLIC, 443)
    assert log["server_hostname"] == "feeds.example"
    assert b"Host: feeds.example\r\n" in log["sent"]


@pytest.mark.parametrize(
    ("address", "public"),
    [(PUBLIC, True), ("2606:2800:220:1:248:1893:25c8:1946", True), ("127.0.0.1", False),
     ("10.1.2.3", False), ("100.64.0.1", False), ("169.254.169.254", False), ("::1", False),
     ("::ffff:127.0.0.1", False), ("64:ff9b::7f00:1", False), ("64:ff9b::5db8:d822", True),
     ("fe80::1", False), ("224.0.0.1", False), ("0.0.0.0", False)],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_refusal_names_the_first_bad_address() -> None:
    assert refusal("a.example", [PUBLIC]) is None
    assert refusal("a.example", [PUBLIC, "10.0.0.1"]) == (
        "a.example resolves to non-public address 10.0.0.1"
    )
    assert refusal("a.example", ["not-an-ip"]) is not None
