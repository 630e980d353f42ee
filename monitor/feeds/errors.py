"""Failures of fetching and parsing feeds, each with a fixed metric reason.

Every exception here derives from :class:`monitor.errors.MonitorError`; the
message is one line that names what went wrong, so ``feed <id>: <message>``
is a complete report.
"""

from __future__ import annotations

from typing import ClassVar

from monitor.errors import PermanentError, RetryableError


class FetchTimeout(RetryableError):
    """Connecting or reading took longer than allowed."""

    reason: ClassVar[str] = "timeout"


class FetchUnreachable(RetryableError):
    """The host could not be resolved or reached."""

    reason: ClassVar[str] = "unreachable"


class ServerError(RetryableError):
    """The server answered 5xx (or 429): try again later."""

    reason: ClassVar[str] = "http_server"


class RateLimited(RetryableError):
    """The server answered 429 or 503 with a request to slow down."""

    reason: ClassVar[str] = "rate_limited"


class ClientError(PermanentError):
    """The server answered 4xx: the URL is wrong or gone."""

    reason: ClassVar[str] = "http_client"


class RefusedUrl(PermanentError):
    """The URL is not http(s) or points at a private, loopback or link-local address."""

    reason: ClassVar[str] = "refused_url"


class TooManyRedirects(PermanentError):
    """More redirects than allowed."""

    reason: ClassVar[str] = "redirects"


class BodyTooLarge(PermanentError):
    """The body exceeded the size cap while streaming."""

    reason: ClassVar[str] = "too_large"


class NotAFeed(PermanentError):
    """The body is not a feed (HTML, binary junk, empty...)."""

    reason: ClassVar[str] = "not_a_feed"


class HostileFeed(PermanentError):
    """The body was refused before parsing (entity declarations, nesting bombs...)."""

    reason: ClassVar[str] = "hostile"


class BadResponse(RetryableError):
    """The server broke the protocol or sent an undecodable body."""

    reason: ClassVar[str] = "bad_response"


class UnexpectedFeedError(PermanentError):
    """A library failed in a way we did not foresee; the feed is marked failed."""

    reason: ClassVar[str] = "unexpected"
