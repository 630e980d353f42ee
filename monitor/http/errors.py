"""Failures of the shared HTTP pieces, before a client puts them in its own words.

The network backends raise these from inside httpx (they are not httpcore
errors, so they pass through the transport unchanged); each client (the feed
fetcher, the notifiers) translates them into its own errors at its boundary.
"""

from __future__ import annotations

from typing import ClassVar

from monitor.errors import PermanentError, RetryableError


class AddressRefused(PermanentError):
    """The host is, or resolves to, an address the guard does not connect to."""

    reason: ClassVar[str] = "refused_url"


class Unresolvable(RetryableError):
    """The host name did not resolve (DNS may answer later)."""

    reason: ClassVar[str] = "unreachable"
