"""An httpx transport whose connections go through a chosen httpcore network backend.

httpx's own ``HTTPTransport`` takes no network backend, and reaching into
its ``_pool`` is relying on a private attribute. Both libraries offer a
public seam instead: httpx sends every request through a
:class:`httpx.BaseTransport`, and :class:`httpcore.ConnectionPool` takes a
``network_backend``. :class:`BackendTransport` joins the two, doing for one
request what httpx's transport does: build the httpcore request, send it
through the pool, hand back a streamed response, and raise httpcore's errors
as the matching httpx ones (so callers catch ``httpx.TimeoutException`` and
friends as with any client). Errors that are not httpcore's, such as
:class:`~monitor.http.errors.AddressRefused` from the address guard, pass
through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpcore
import httpx

#: httpcore's errors and httpx's for them, most specific first: the first
#: class the error is an instance of decides.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def httpx_errors() -> Iterator[None]:
    """Raise httpcore's errors inside the block as the matching httpx errors."""
    try:
        yield
    except Exception as exc:
        for theirs, ours in _ERRORS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    """A response body read from httpcore, its errors raised as httpx's."""

    def __init__(self, stream: httpcore.Response) -> None:
        self._response = stream

    def __iter__(self) -> Iterator[bytes]:
        with httpx_errors():
            yield from self._response.iter_stream()

    def close(self) -> None:
        with httpx_errors():
            self._response.close()


class BackendTransport(httpx.BaseTransport):
    """Sends requests through a connection pool built on ``backend``.

    ``backend`` is any :class:`httpcore.NetworkBackend`: a
    :class:`~monitor.http.deadline.DeadlineBackend`, or an
    :class:`~monitor.http.guard.AddressGuardBackend` wrapping one. TLS is
    verified as httpx verifies it by default; HTTP/1.1 only.
    """

    def __init__(self, backend: httpcore.NetworkBackend, limits: httpx.Limits) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("BackendTransport sends synchronous requests only")
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with httpx_errors():
            response = self._pool.handle_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
