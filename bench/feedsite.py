"""RSS feeds of benchmark articles, as files for a loopback HTTP server.

Used by the all-stages measurement in ``bench_pipeline.py``: the daemon's
poller fetches these feeds like any other site. Each item carries the whole
article in ``content:encoded``, so the poller takes the text from the feed and
fetches no page; links and GUIDs are unique per article, so every item is a
new article. Every write replaces a feed file atomically and returns when the
new version went live (``time.monotonic()``).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from monitor.messages import Article


def rss_item(article: Article) -> str:
    """One RSS item with the article's paragraphs as HTML in ``content:encoded``."""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in article.text.splitlines() if line)
    return (
        "<item>"
        f"<title>{xml_escape(article.title)}</title>"
        f"<link>{xml_escape(article.url)}</link>"
        f'<guid isPermaLink="false">{xml_escape(article.id)}</guid>'
        f"<pubDate>{format_datetime(datetime.now(UTC), usegmt=True)}</pubDate>"
        f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded>"
        "</item>"
    )


def rss_document(feed_id: str, items: list[str]) -> bytes:
    """A whole RSS 2.0 feed around ``items`` (already rendered, newest first)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Benchmark feed {feed_id}</title><link>https://bench.example/</link>"
        f"<description>Synthetic wire stories</description>{''.join(items)}</channel></rss>\n"
    ).encode()


class BenchFeeds:
    """``count`` feed files in ``root``; items are added in memory, then written."""

    def __init__(self, root: Path, count: int) -> None:
        self.root = root
        self.ids = [f"bench-feed-{i}" for i in range(count)]
        self._items: dict[str, list[str]] = {fid: [] for fid in self.ids}
        root.mkdir(parents=True, exist_ok=True)

    def feed_for(self, serial: int) -> str:
        """The feed an article goes to (round robin over the feeds)."""
        return self.ids[serial % len(self.ids)]

    def add(self, feed_id: str, article: Article) -> None:
        """Put ``article`` at the top of ``feed_id`` (live on the next write)."""
        self._items[feed_id].append(rss_item(article))

    def clear(self) -> None:
        """Drop every item (older stories fall off a feed; live on the next write)."""
        for items in self._items.values():
            items.clear()

    def write(self, feed_id: str) -> float:
        """Atomically replace the feed's file; return the moment it went live."""
        path = self.root / f"{feed_id}.xml"
        partial = path.with_suffix(".partial")
        partial.write_bytes(rss_document(feed_id, self._items[feed_id][::-1]))
        os.replace(partial, path)
        return time.monotonic()

    def write_all(self) -> dict[str, float]:
        """Write every feed; the moment each went live, by feed id."""
        return {fid: self.write(fid) for fid in self.ids}

    def feed_list(self, base_url: str, interval_s: float) -> dict[str, Any]:
        """The ``feeds.yaml`` document: every feed at a fixed poll interval."""
        return {
            "feeds": [
                {"id": fid, "url": f"{base_url}/{fid}.xml", "interval_s": interval_s}
                for fid in self.ids
            ]
        }
