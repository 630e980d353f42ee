"""Turn fetched feed bytes into plain entries (RSS, Atom, RDF via feedparser;
JSON Feed by hand, since feedparser 6 does not read it).

feedparser is only ever given bytes: handed a string it would open local files
or fetch URLs by itself. Bodies are defused first (:mod:`.sanitize`), and
memory or recursion exhaustion inside the parser becomes a
:class:`~monitor.feeds.errors.HostileFeed` rather than a crash.

The cut in :mod:`.sanitize` works on bytes, so it must see the characters the
parser will see. feedparser picks a body's encoding from the HTTP charset,
the XML declaration, a BOM or the first bytes, and in UTF-7, UTF-16 without a
BOM or EBCDIC ``<!ENTITY`` is not those ASCII bytes. So the body is first
decoded exactly as feedparser would decode it (its own ``convert_to_utf8``),
defused as UTF-8, and handed back declared as UTF-8 in body and header.

A body larger than :data:`monitor.feeds.parsepool.INLINE_MAX_BYTES` is parsed
in a worker process with a time limit (:mod:`.parsepool`), so one hostile
feed cannot hold the GIL for the rest.
"""

from __future__ import annotations

import calendar
import codecs
import time
from collections.abc import Mapping
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

from monitor.clock import iso_utc
from monitor.feeds.errors import HostileFeed, NotAFeed
from monitor.feeds.jsonfeed import parse_json_feed
from monitor.feeds.model import FeedEntry, ParsedFeed
from monitor.feeds.parsepool import INLINE_MAX_BYTES, shared_pool
from monitor.feeds.sanitize import defuse
from monitor.feeds.urls import is_web_url
from monitor.text import first_line

#: What the defused body is declared as when feedparser parses it: it is UTF-8
#: by then, and a charset the server sent must not make feedparser decode it again.
_UTF8_HEADERS = {"content-type": "application/xml; charset=utf-8"}
_SY_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "weekly": 604800.0,
               "monthly": 2592000.0, "yearly": 31536000.0}


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse ``body`` (bytes as fetched) into a :class:`ParsedFeed`.

    Small bodies are parsed here, large ones in the shared parse pool under
    its time limit. Raises :class:`NotAFeed` or :class:`HostileFeed` (its
    :class:`~monitor.feeds.parsepool.ParseTimeout` when the limit is hit) with
    a one-line reason.
    """
    if len(body) <= INLINE_MAX_BYTES:
        return parse_feed_inline(body, headers)
    return shared_pool().parse(body, headers)


def parse_feed_inline(body: bytes, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse ``body`` in the calling thread, however long it takes."""
    if not body.strip():  # before decoding, which adds an XML declaration
        raise NotAFeed("empty body")
    if body.removeprefix(codecs.BOM_UTF8).lstrip()[:1] in (b"{", b"["):
        return parse_json_feed(body.removeprefix(codecs.BOM_UTF8))
    try:
        utf8, encoding_problem = _as_utf8(body, dict(headers or {}))
        clean, note = defuse(utf8)
        parsed = feedparser.parse(clean, response_headers={**(headers or {}), **_UTF8_HEADERS})
    except (MemoryError, RecursionError) as exc:
        raise HostileFeed(f"parser exhausted resources ({type(exc).__name__})") from exc
    if encoding_problem is not None and not parsed.get("bozo"):
        parsed["bozo"], parsed["bozo_exception"] = True, encoding_problem
    version = str(parsed.get("version") or "")
    entries = tuple(_entry(raw) for raw in parsed.entries)
    problem = _bozo_reason(parsed)
    if not version and not entries:
        raise NotAFeed(f"not a feed: {problem or 'no feed or entry elements found'}")
    recovered = f"recovered ill-formed feed: {problem}" if problem else None
    warnings = [w for w in (note, recovered) if w]
    feed = parsed.feed
    return ParsedFeed(
        title=_text(feed.get("title")),
        link=_opt(feed.get("link")),
        format=version or "unknown",
        entries=entries,
        warning="; ".join(warnings) or None,
        ttl_s=_ttl_seconds(feed),
        language=_opt(feed.get("language")),
    )


def _as_utf8(body: bytes, headers: dict[str, str]) -> tuple[bytes, object | None]:
    """``body`` as UTF-8 text, decoded the way feedparser would decode it, with
    its XML declaration saying so; and feedparser's complaint about the
    encoding (declared one thing, was another; not an XML media type), if any.

    Raises :class:`NotAFeed` when no encoding decodes the body (feedparser
    falls back to ISO-8859-2, which decodes any bytes, so this is a guard).
    """
    found: dict[str, Any] = {}
    utf8 = convert_to_utf8(headers, body, found)
    if not found.get("encoding"):
        raise NotAFeed("body is in no known character encoding")
    return utf8, found.get("bozo_exception") if found.get("bozo") else None


def _entry(raw: dict[str, Any]) -> FeedEntry:
    contents = raw.get("content") or []
    content = "\n".join(_text(part.get("value")) for part in contents if part.get("value"))
    link = _opt(raw.get("link"))
    if link and raw.get("guidislink") and not is_web_url(link):
        link = None  # feedparser copied a non-URL guid (urn:, tag:) into link
    return FeedEntry(
        guid=_opt(raw.get("id")),
        link=link,
        title=_text(raw.get("title")),
        # dict.get: feedparser's own lookup maps a missing updated_parsed to
        # published_parsed with a deprecation warning; we want the raw value.
        published=_date(dict.get(raw, "published_parsed")),
        updated=_date(dict.get(raw, "updated_parsed")),
        author=_opt(raw.get("author")),
        summary=_text(raw.get("summary")),
        content=content,
    )


def _date(parsed: time.struct_time | None) -> str | None:
    if not parsed:
        return None
    try:
        return iso_utc(calendar.timegm(parsed))
    except (OverflowError, ValueError, OSError):
        return None


def _ttl_seconds(feed: Mapping[str, Any]) -> float | None:
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        return int(ttl) * 60.0
    period = _SY_PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    frequency = str(feed.get("sy_updatefrequency") or "1").strip()
    return period / max(1, int(frequency)) if frequency.isdigit() else period


def _bozo_reason(parsed: Mapping[str, Any]) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    text = first_line(str(exc)) if exc is not None else ""
    name = type(exc).__name__ if exc is not None else "error"
    return f"{name}: {text}" if text else name


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _opt(value: object) -> str | None:
    text = _text(value)
    return text or None


__all__ = ["FeedEntry", "ParsedFeed", "parse_feed", "parse_feed_inline"]
