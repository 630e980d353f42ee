"""BackendTransport: an httpx client over a chosen network backend, errors as httpx's."""

from __future__ import annotations

import time
import typing
from typing import Any

import httpcore
import httpx
import pytest

from monitor.http import AddressRefused, BackendTransport, DeadlineBackend

LIMITS = httpx.Limits(max_connections=4, max_keepalive_connections=4)
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Seen: yes\r\n\r\nhello"


class _Stream(httpcore.NetworkStream):
    """Answers with ``chunks`` in turn, then raises ``then`` (if any) on the next read."""

    def __init__(self, chunks: list[bytes], sent: list[bytes], then: Exception | None) -> None:
        self._chunks = list(chunks)
        self._sent = sent
        self._then = then

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._chunks:
            return self._chunks.pop(0)
        if self._then is not None:
            raise self._then
        return b""

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._sent.append(buffer)

    def close(self) -> None:
        return None

    def get_extra_info(self, info: str) -> Any:
        return None


class _Backend(httpcore.NetworkBackend):
    def __init__(self, chunks: list[bytes], *, refuse: Exception | None = None,
                 then: Exception | None = None) -> None:
        self.sent: list[bytes] = []
        self.connected: list[tuple[str, int]] = []
        self._chunks = chunks
        self._refuse = refuse
        self._then = then

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self._refuse is not None:
            raise self._refuse
        self.connected.append((host, port))
        return _Stream(self._chunks, self.sent, self._then)


def _client(backend: httpcore.NetworkBackend) -> httpx.Client:
    return httpx.Client(transport=BackendTransport(backend, LIMITS))


def test_a_request_goes_through_the_backend_and_the_answer_streams_back() -> None:
    backend = _Backend([ANSWER])
    with _client(backend) as client:
        response = client.post("http://receiver.test:8080/hook?x=1", content=b"{}",
                               headers={"X-Key": "k"})
    assert (response.status_code, response.headers["x-seen"], response.content) == (
        200, "yes", b"hello")
    assert backend.connected == [("receiver.test", 8080)]
    request = b"".join(backend.sent)
    assert request.startswith(b"POST /hook?x=1 HTTP/1.1\r\n")
    assert b"Host: receiver.test:8080\r\n" in request and b"X-Key: k\r\n" in request


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        (httpcore.ConnectTimeout("slow"), httpx.ConnectTimeout),
        (httpcore.ConnectError("refused"), httpx.ConnectError),
        (httpcore.ReadTimeout("slow"), httpx.ReadTimeout),
    ],
)
def test_httpcore_errors_on_connecting_become_the_matching_httpx_errors(
    theirs: Exception, ours: type[Exception]
) -> None:
    with _client(_Backend([], refuse=theirs)) as client, pytest.raises(ours) as caught:
        client.get("http://receiver.test/")
    assert caught.value.__cause__ is theirs


def test_errors_while_the_body_streams_become_httpx_errors() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart"
    backend = _Backend([head], then=httpcore.ReadError("reset by peer"))
    with _client(backend) as client, pytest.raises(httpx.ReadError, match="reset by peer"):
        client.get("http://receiver.test/")


def test_the_monitors_own_errors_pass_through_unchanged() -> None:
    refused = AddressRefused("receiver.test resolves to non-public address 127.0.0.1")
    with _client(_Backend([], refuse=refused)) as client, pytest.raises(AddressRefused) as caught:
        client.get("http://receiver.test/")
    assert caught.value is refused


def test_a_deadline_backend_installed_this_way_ends_a_request_whose_time_is_up() -> None:
    inner = _Backend([ANSWER])
    deadline = DeadlineBackend(inner)
    with _client(deadline) as client:
        assert client.get("http://receiver.test/").content == b"hello"
        with deadline.deadline(time.monotonic() - 1.0), pytest.raises(httpx.ConnectTimeout):
            client.get("http://other.test/")
    assert inner.connected == [("receiver.test", 80)]
