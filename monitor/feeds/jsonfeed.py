"""JSON Feed 1.0/1.1 (https://jsonfeed.org) into the same records as XML feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from monitor.clock import iso_utc
from monitor.feeds.errors import NotAFeed
from monitor.feeds.model import FeedEntry, ParsedFeed
from monitor.text import one_line


def parse_json_feed(body: bytes) -> ParsedFeed:
    """Parse a JSON Feed document; raises :class:`NotAFeed` for other JSON."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotAFeed(f"invalid JSON: {one_line(exc)[:120]}") from exc
    if not isinstance(document, dict) or "jsonfeed.org/version" not in str(
        document.get("version", "")
    ):
        raise NotAFeed("JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise NotAFeed("JSON Feed has no items list")
    entries = tuple(_entry(item) for item in items if isinstance(item, dict))
    skipped = len(items) - len(entries)
    version = str(document["version"]).rstrip("/").rsplit("/", 1)[-1]
    return ParsedFeed(
        title=_text(document.get("title")),
        link=_text(document.get("home_page_url")) or None,
        format=f"json{version.replace('.', '')}",
        entries=entries,
        language=_text(document.get("language")) or None,
        warning=f"recovered ill-formed feed: skipped {skipped} non-object items"
        if skipped
        else None,
    )


def _entry(item: dict[str, Any]) -> FeedEntry:
    guid = item.get("id")
    return FeedEntry(
        guid=str(guid).strip() or None if guid is not None else None,
        link=_text(item.get("url")) or _text(item.get("external_url")) or None,
        title=_text(item.get("title")),
        published=_date(item.get("date_published")),
        updated=_date(item.get("date_modified")),
        author=_author(item),
        summary=_text(item.get("summary")),
        content=_text(item.get("content_html")) or _text(item.get("content_text")),
    )


def _author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    candidates = authors if isinstance(authors, list) else [item.get("author")]
    names = [_text(a.get("name")) for a in candidates if isinstance(a, dict)]
    return ", ".join(n for n in names if n) or None


def _date(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso_utc(moment.timestamp())


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
