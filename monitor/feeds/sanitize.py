"""Defuse feed bodies before any XML parser sees them (pure functions).

feedparser's loose parser expands entities declared in a DOCTYPE internal
subset without any limit, so a small "billion laughs" or quadratic-blowup
feed can take gigabytes. We never need DTDs to read a feed, so the internal
subset and every ``<!ENTITY`` declaration are cut out of the bytes first;
references to the removed entities then stay as harmless literal text.
Bodies in UTF-16/32 are re-encoded as UTF-8 first so the cut sees them too.
The cut only sees ASCII markup: :func:`monitor.feeds.parsing.parse_feed`
hands it bodies already decoded the way feedparser will decode them (UTF-7,
EBCDIC or a charset header could otherwise spell ``<!ENTITY`` differently).
"""

from __future__ import annotations

import codecs
import re

from monitor.feeds.errors import HostileFeed, NotAFeed

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY\b[^>]*>", re.IGNORECASE)
_ENTITY_OPEN = re.compile(rb"<!ENTITY\b", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"^(<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2")
_WIDE_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)


def defuse(body: bytes) -> tuple[bytes, str | None]:
    """Return ``body`` without DTD internal subsets or entity declarations,
    and a one-line note when something was removed.

    Raises :class:`NotAFeed` for an empty body and :class:`HostileFeed` for a
    DOCTYPE whose internal subset never closes.
    """
    if not body.strip():
        raise NotAFeed("empty body")
    body = _widen_to_utf8(body)
    notes: list[str] = []
    match = _DOCTYPE.search(body)
    if match is not None:
        body, removed = _cut_doctype(body, match.start())
        if removed:
            notes.append("removed a DOCTYPE internal subset")
    if _ENTITY_OPEN.search(body):
        body = _ENTITY_DECL.sub(b"", body)
        if _ENTITY_OPEN.search(body):
            raise HostileFeed("unterminated <!ENTITY declaration")
        notes.append("removed <!ENTITY declarations")
    return body, "; ".join(notes) or None


def _cut_doctype(body: bytes, start: int) -> tuple[bytes, bool]:
    """Cut the DOCTYPE at ``start`` entirely when it has an internal subset."""
    close = body.find(b">", start)
    bracket = body.find(b"[", start)
    if bracket == -1 or (close != -1 and close < bracket):
        return body, False
    end = re.compile(rb"\]\s*>").search(body, bracket)
    if end is None:
        raise HostileFeed("DOCTYPE internal subset never closes")
    return body[:start] + body[end.end():], True


def _widen_to_utf8(body: bytes) -> bytes:
    """Re-encode UTF-16/32 bodies as UTF-8, fixing the XML declaration."""
    encoding = None
    for bom, name in _WIDE_BOMS:
        if body.startswith(bom):
            encoding, body = name, body[len(bom):]
            break
    else:
        for prefix, name in _WIDE_PREFIXES:
            if body.startswith(prefix):
                encoding = name
                break
    if encoding is None:
        return body
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NotAFeed(f"body is not valid {encoding}") from exc
    return _XML_DECL_ENCODING.sub(rb"\1\2utf-8\2", text.encode("utf-8"), count=1)
