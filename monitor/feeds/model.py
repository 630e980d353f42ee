"""Plain records of a parsed feed, shared by the XML and JSON Feed readers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry as the feed gave it; dates are ISO-8601 UTC or None."""

    guid: str | None
    link: str | None
    title: str
    published: str | None
    updated: str | None
    author: str | None
    summary: str
    content: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed with its scheduling hints."""

    title: str
    link: str | None
    format: str
    entries: tuple[FeedEntry, ...]
    #: One line saying what was recovered from an ill-formed feed, if anything.
    warning: str | None = None
    #: ``<ttl>`` or ``sy:updatePeriod``/``sy:updateFrequency``, in seconds.
    ttl_s: float | None = None
    #: The feed's declared language (``<language>``, ``xml:lang``), if any.
    language: str | None = None
