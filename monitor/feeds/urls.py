"""Canonical article URLs and stable article ids (pure functions).

Two feeds that carry the same story usually link it with different tracking
parameters, fragments, host spellings or ``www.`` prefixes; the canonical form
removes those differences so both map to one article id.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_web_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def canonical_url(url: str, tracking_params: Sequence[str] = (), strip_www: bool = True) -> str:
    """Return ``url`` with scheme and host normalised, tracking parameters and
    the fragment removed, and the remaining query sorted.

    Glob patterns (``utm_*``) are allowed in ``tracking_params``. A URL that
    cannot be split is returned stripped but otherwise unchanged.
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = host.lower()
    if strip_www and host.startswith("www."):
        host = host[4:]
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    patterns = [p.lower() for p in tracking_params]
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not any(fnmatch.fnmatchcase(key.lower(), pattern) for pattern in patterns)
    )
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def article_id_from(
    *,
    guid: str | None,
    link: str | None,
    feed_id: str,
    title: str = "",
    tracking_params: Sequence[str] = (),
    strip_www: bool = True,
) -> str:
    """A stable id for a feed entry, the same across feeds and restarts.

    Preference: a GUID that is a permalink URL, then the entry's link (both
    canonicalised), then a non-URL GUID scoped to its feed, then the title
    scoped to its feed. Only URL-based ids can match across feeds.
    """
    if guid and is_web_url(guid):
        basis = "url:" + canonical_url(guid, tracking_params, strip_www)
    elif link and is_web_url(link):
        basis = "url:" + canonical_url(link, tracking_params, strip_www)
    elif guid:
        basis = f"guid:{feed_id}:{guid.strip()}"
    else:
        basis = f"title:{feed_id}:{title.strip()}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
