"""Fetching feeds and article pages: the ``Fetcher`` protocol and its httpx shell.

The protocol is small on purpose: one request in, one result (or a
:class:`~monitor.errors.MonitorError`) out. :class:`HttpxFetcher` is the real
transport; :mod:`monitor.feeds.fake` holds an in-process one for unit tests.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.feeds.errors import (
    BadResponse,
    BodyTooLarge,
    ClientError,
    FetchTimeout,
    FetchUnreachable,
    RateLimited,
    RefusedUrl,
    ServerError,
    TooManyRedirects,
)
from monitor.feeds.politeness import HostGate
from monitor.feeds.settings import PollerSettings
from monitor.http import (
    AddressGuardBackend,
    AddressRefused,
    BackendTransport,
    DeadlineBackend,
    Unresolvable,
    exempt,
    parse_address,
    parse_retry_after,
    refusal,
)
from monitor.text import one_line

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """What to fetch, with the validators from the previous answer."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    accept: str = FEED_ACCEPT


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A 200 (with body) or 304 (without) answer, after redirects."""

    status: int
    url: str
    body: bytes = b""
    #: The new address when every redirect on the way was permanent.
    permanent_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""
    #: ``Cache-Control: max-age`` in seconds, if the server sent one.
    max_age_s: float | None = None
    elapsed_s: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher(Protocol):
    """Fetches one URL; raises a MonitorError (retryable or permanent) on failure.

    A fetcher that talks to the network is also where per-host politeness
    and the private-address guard apply, hop by hop.
    """

    def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch ``request.url`` (conditionally, when validators are given)."""

    def close(self) -> None:
        """Release pooled connections."""


def parse_max_age(cache_control: str | None) -> float | None:
    """``max-age`` seconds from a ``Cache-Control`` header, or None."""
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() == "max-age" and value.strip().strip('"').isdigit():
            return float(value.strip().strip('"'))
    return None


def check_url_allowed(
    url: str, allow_private: bool, allowed_hosts: tuple[str, ...] = ()
) -> None:
    """Refuse non-http(s) URLs and, unless allowed, hosts that are literal
    loopback, private, link-local or otherwise non-public addresses.

    Pure: host names are not resolved here. Their addresses are checked by
    :class:`~monitor.http.AddressGuardBackend` when the connection is
    made, against the very answer the connection uses (a check here would
    be a second lookup, which a rebinding name answers differently).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for an invalid port
    except ValueError as exc:
        raise RefusedUrl(f"invalid URL {url!r}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise RefusedUrl(f"scheme {parts.scheme or '(none)'!r} is not http or https")
    host = parts.hostname
    if not host:
        raise RefusedUrl(f"URL {url!r} has no host")
    if exempt(host, allow_private, allowed_hosts):
        return
    reason = refusal(host, [host]) if parse_address(host) is not None else None
    if reason is not None:
        raise RefusedUrl(reason)


class HttpxFetcher:
    """The real fetcher: one pooled httpx client shared by every poll.

    Redirects are followed by hand so that each hop is checked against the
    address guard, counted, and sent through the per-host politeness gate of
    its own host; the body is streamed and abandoned as soon as it exceeds
    the cap or the total deadline passes. Connections go through
    :class:`~monitor.http.AddressGuardBackend`, which checks the
    addresses a host name resolves to at the moment of connecting.

    ``gate`` is shared by every fetch (feeds and article pages); by default
    one is built from the settings' per-host concurrency and delay. Time spent
    waiting for the gate counts neither against the total time limit nor in
    ``elapsed_s``.
    """

    def __init__(
        self,
        settings: PollerSettings,
        pool_size: int | None = None,
        gate: HostGate | None = None,
    ) -> None:
        self._settings = settings
        self._gate = gate or HostGate(settings.per_host_concurrency, settings.per_host_delay_s)
        size = pool_size or max(settings.concurrency * 2, 4)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._backend = DeadlineBackend()
        guarded = AddressGuardBackend(
            self._backend, settings.allow_private_addresses, settings.allowed_private_hosts
        )
        self._client = httpx.Client(
            transport=BackendTransport(guarded, limits),
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=settings.connect_timeout_s,
                read=settings.read_timeout_s,
                write=settings.read_timeout_s,
                pool=settings.total_timeout_s,
            ),
            headers={"User-Agent": settings.user_agent},
        )

    def close(self) -> None:
        self._client.close()

    def fetch(self, request: FetchRequest) -> FetchResult:
        started = time.monotonic()
        waited = 0.0  # in the politeness gate, over every hop
        url = request.url
        permanent = True
        for _hop in range(self._settings.max_redirects + 1):
            check_url_allowed(
                url,
                self._settings.allow_private_addresses,
                self._settings.allowed_private_hosts,
            )
            queued = time.monotonic()
            with self._gate.slot(url):
                waited += time.monotonic() - queued
                deadline = started + waited + self._settings.total_timeout_s
                result = self._fetch_one(url, request, deadline)
            if isinstance(result, FetchResult):
                moved = permanent and url != request.url
                return _finish(result, started + waited, url if moved else None)
            status, location = result
            permanent = permanent and status in _PERMANENT
            url = urljoin(url, location)
        raise TooManyRedirects(f"more than {self._settings.max_redirects} redirects")

    def _fetch_one(
        self, url: str, request: FetchRequest, deadline: float
    ) -> FetchResult | tuple[int, str]:
        headers = {"Accept": request.accept}
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        try:
            with (
                self._backend.deadline(deadline),
                self._client.stream("GET", url, headers=headers) as response,
            ):
                return self._read(response, url, deadline)
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise FetchTimeout(f"total time limit exceeded fetching {url}") from exc
            raise FetchTimeout(f"timed out fetching {url}") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise RefusedUrl(f"invalid URL {url!r}: {exc}") from exc
        except httpx.DecodingError as exc:
            raise BadResponse(f"undecodable body from {url}") from exc
        except (httpx.ProtocolError, httpx.NetworkError) as exc:
            raise FetchUnreachable(f"cannot reach {url}: {one_line(exc)}") from exc
        except httpx.HTTPError as exc:
            raise BadResponse(f"HTTP failure for {url}: {one_line(exc)}") from exc
        except AddressRefused as exc:  # from the guard, when connecting
            raise RefusedUrl(str(exc)) from exc
        except Unresolvable as exc:
            raise FetchUnreachable(str(exc)) from exc

    def _read(
        self, response: httpx.Response, url: str, deadline: float
    ) -> FetchResult | tuple[int, str]:
        status = response.status_code
        if status in _REDIRECTS:
            location = response.headers.get("location")
            if not location:
                raise BadResponse(f"redirect {status} without Location from {url}")
            return status, location
        if status == 304:
            return _result(response, url, b"")
        if status in (429, 503):
            wait = parse_retry_after(response.headers.get("retry-after"), time.time())
            raise RateLimited(f"HTTP {status} from {url}", retry_after=wait)
        if status >= 500 or status == 408:
            raise ServerError(f"HTTP {status} from {url}")
        if status >= 400 or status < 200 or status >= 300:
            raise ClientError(f"HTTP {status} from {url}")
        cap = self._settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        encoded = "content-encoding" in response.headers
        if declared.isdigit() and int(declared) > cap and not encoded:
            raise BodyTooLarge(f"body of {declared} bytes exceeds the {cap}-byte cap")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise BodyTooLarge(f"body exceeds the {cap}-byte cap")
            if time.monotonic() > deadline:
                raise FetchTimeout(f"total time limit exceeded fetching {url}")
            chunks.append(chunk)
        return _result(response, url, b"".join(chunks))


def _result(response: httpx.Response, url: str, body: bytes) -> FetchResult:
    headers = response.headers
    return FetchResult(
        status=response.status_code,
        url=url,
        body=body,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=headers.get("content-type", ""),
        max_age_s=parse_max_age(headers.get("cache-control")),
        headers=dict(headers.items()),
    )


def _finish(result: FetchResult, started: float, permanent_url: str | None) -> FetchResult:
    return FetchResult(
        status=result.status,
        url=result.url,
        body=result.body,
        permanent_url=permanent_url,
        etag=result.etag,
        last_modified=result.last_modified,
        content_type=result.content_type,
        max_age_s=result.max_age_s,
        elapsed_s=time.monotonic() - started,
        headers=result.headers,
    )

