"""Small builders of feed documents and settings for the feed tests."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from monitor.config import Settings
from monitor.feeds.settings import FeedConfig, PollerSettings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"


def rss(items: list[dict[str, str]], title: str = "Test feed", extra: str = "") -> bytes:
    """An RSS 2.0 document; each item dict may carry guid, link, title,
    description, content, pubDate."""
    parts = []
    for item in items:
        fields = []
        if "guid" in item:
            fields.append(f"<guid>{escape(item['guid'])}</guid>")
        for tag in ("link", "title", "description", "pubDate"):
            if tag in item:
                fields.append(f"<{tag}>{escape(item[tag])}</{tag}>")
        if "content" in item:
            fields.append(f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>")
        parts.append("<item>" + "".join(fields) + "</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>http://example.org/</link>{extra}"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def settings_for(
    tmp: Path, feeds: dict[str, str], config_dir: Path | None = None, **poller: object
) -> Settings:
    """Settings with loopback allowed, no politeness delay and the given feeds."""
    base: dict[str, object] = {
        "allow_private_addresses": True,
        "per_host_delay_s": 0.0,
        "per_host_concurrency": 4,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
        "total_timeout_s": 5.0,
    }
    base.update(poller)
    return Settings(
        poller=PollerSettings.model_validate(base),
        feeds=tuple(FeedConfig(id=fid, url=url) for fid, url in feeds.items()),  # type: ignore[arg-type]
        state_dir=tmp / "state",
        config_dir=config_dir or tmp,
    )
