"""Parsing real feed documents written for these tests."""

from __future__ import annotations

import codecs

import feedparser
import pytest

from monitor.feeds.errors import HostileFeed, NotAFeed
from monitor.feeds.parsing import parse_feed
from monitor.feeds.sanitize import defuse
from tests.feeds.builders import FIXTURES, rss


def test_atom_entries_dates_in_utc_and_missing_dates() -> None:
    parsed = parse_feed((FIXTURES / "atom10.xml").read_bytes())
    assert parsed.format == "atom10" and parsed.title == "Harbour Gazette"
    dated, undated = parsed.entries
    assert dated.published == "2025-03-02T07:30:00Z"
    assert dated.updated == "2025-03-02T08:00:00Z"
    assert dated.author == "Ines Varga"
    assert "Ferries will run hourly." in dated.content
    assert undated.published is None and undated.link is None
    assert undated.guid == "urn:uuid:entry-note-2"


def test_rdf_with_syndication_hint() -> None:
    parsed = parse_feed((FIXTURES / "rss10.rdf").read_bytes())
    assert parsed.format == "rss10"
    assert parsed.ttl_s == 900
    (entry,) = parsed.entries
    # feedparser files dc:date under "updated"; the article uses it as published.
    assert entry.updated == "2025-01-05T12:00:00Z" and entry.author == "Tomas Berg"


def test_rss_ttl_in_minutes() -> None:
    parsed = parse_feed(rss([{"title": "x", "link": "https://a.example/1"}], extra="<ttl>30</ttl>"))
    assert parsed.ttl_s == 1800


def test_json_feed() -> None:
    parsed = parse_feed((FIXTURES / "jsonfeed11.json").read_bytes())
    assert parsed.format == "json11" and parsed.link == "https://orchard.example/"
    first, second = parsed.entries
    assert first.published == "2025-02-01T07:00:00Z" and first.author == "Maja Lind"
    assert second.content == "Short text only." and second.guid == "2"


def test_json_feed_with_a_byte_order_mark() -> None:
    body = codecs.BOM_UTF8 + (FIXTURES / "jsonfeed11.json").read_bytes()
    assert len(parse_feed(body).entries) == 2


def test_ill_formed_feed_is_recovered_with_a_warning() -> None:
    parsed = parse_feed((FIXTURES / "illformed.xml").read_bytes())
    assert len(parsed.entries) == 2
    assert parsed.warning is not None and parsed.warning.startswith("recovered ill-formed feed")
    assert "\n" not in parsed.warning


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"   \n\t ", "empty body"),
        (b"<html><head><title>x</title></head><body><p>hi</p></body></html>", "not a feed"),
        (bytes(range(256)) * 40, "not a feed"),
        (b'{"hello": "world"}', "not a JSON Feed"),
        (b"{not json", "invalid JSON"),
    ],
)
def test_non_feeds_are_refused_with_one_line(body: bytes, message: str) -> None:
    with pytest.raises(NotAFeed) as caught:
        parse_feed(body)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_internal_subset_and_entities_are_removed_before_parsing() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "AAAA"><!ENTITY xxe SYSTEM '
        b'"file:///etc/passwd">]><rss version="2.0"><channel><title>&a;&xxe;</title>'
        b"<item><title>one</title><link>https://a.example/1</link></item></channel></rss>"
    )
    clean, note = defuse(body)
    assert b"ENTITY" not in clean and b"DOCTYPE" not in clean
    assert note == "removed a DOCTYPE internal subset"
    parsed = parse_feed(body)
    assert "AAAA" not in parsed.title and "root:" not in parsed.title
    assert len(parsed.entries) == 1


def test_unclosed_internal_subset_is_hostile() -> None:
    with pytest.raises(HostileFeed):
        defuse(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>")


def test_utf16_feed_is_defused_and_parsed() -> None:
    text = rss([{"title": "Zürich", "link": "https://a.example/z"}]).decode()
    text = text.replace('encoding="utf-8"', 'encoding="utf-16"')
    text = text.replace("<rss", '<!DOCTYPE rss [<!ENTITY b "boom">]><rss')
    body = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    parsed = parse_feed(body)
    assert parsed.entries[0].title == "Zürich"


def test_plain_doctype_without_subset_is_kept() -> None:
    body = b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x">'
    assert defuse(body + b"<rss/>") == (body + b"<rss/>", None)


def _utf7_markup(text: str) -> bytes:
    """UTF-7 with ``<``, ``!`` and ``>`` in their encoded form, as a hostile server sends them."""
    return text.replace("<", "+ADw-").replace("!", "+ACE-").replace(">", "+AD4-").encode()


_BOMB = '<!DOCTYPE rss [<!ENTITY a "AAAAAAAAAA">]>'
_BOMB_FEED = ('<rss version="2.0"><channel><title>&a;</title><item><title>one &a;</title>'
              "<link>https://a.example/1</link></item></channel></rss>")


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'<?xml version="1.0" encoding="utf-7"?>' + _utf7_markup(_BOMB) + _BOMB_FEED.encode(),
         None),
        (b'<?xml version="1.0"?>' + _utf7_markup(_BOMB) + _BOMB_FEED.encode(),
         {"content-type": "application/rss+xml; charset=utf-7"}),
        (('<?xml version="1.0" encoding="cp037"?>' + _BOMB + _BOMB_FEED).encode("cp037"), None),
        (('<?xml version="1.0"?>' + _BOMB + _BOMB_FEED).encode("cp500"),
         {"content-type": "application/xml; charset=cp500"}),
        (b'<?xml version="1.0" encoding="unicode_escape"?>'
         + _BOMB.replace("<", "\\u003c").encode() + _BOMB_FEED.encode(), None),
    ],
    ids=["utf-7 declared", "utf-7 in charset", "ebcdic declared", "ebcdic in charset",
         "unicode_escape declared"],
)
def test_entities_hidden_by_the_encoding_are_removed_too(
    body: bytes, headers: dict[str, str] | None
) -> None:
    assert b"<!ENTITY" not in body
    parsed = parse_feed(body, headers)
    assert parsed.title == "&a;" and [e.title for e in parsed.entries] == ["one &a;"]
    assert parsed.warning is not None
    assert parsed.warning.startswith("removed a DOCTYPE internal subset")


@pytest.mark.parametrize("exhaustion", [MemoryError, RecursionError])
def test_parser_exhaustion_is_a_one_line_hostile_feed(
    monkeypatch: pytest.MonkeyPatch, exhaustion: type[Exception]
) -> None:
    def exhausted(*args: object, **kwargs: object) -> object:
        raise exhaustion("out of it\nsecond line")

    monkeypatch.setattr(feedparser, "parse", exhausted)
    with pytest.raises(HostileFeed) as caught:
        parse_feed(rss([{"title": "x", "link": "https://a.example/1"}]))
    assert str(caught.value) == f"parser exhausted resources ({exhaustion.__name__})"
    assert caught.value.reason == "hostile" and caught.value.kind == "permanent"
