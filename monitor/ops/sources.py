"""What the status page shows, and where it comes from.

The page reads alert history and feed health through two small protocols,
:class:`AlertHistory` and :class:`FeedHealthSource`, so it does not depend
on how the alerts and feeds packages store them. The adapters at the bottom
connect to the real stores when those exist and fall back to empty (or
config-only) views when they do not: the page must work on a fresh install.

:func:`highlight` is the pure part: it turns a statement and the offsets of
its evidence and rule matches into runs of text, each marked or not, for the
page to escape and render.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from monitor.messages import Alert, Match, Statement, StoryNotification

if TYPE_CHECKING:
    from monitor.config import Settings

log = logging.getLogger(__name__)

#: Feed states as the feeds package names them, worst first; "unknown" means
#: configured but never polled by a poller that saved its state here.
FEED_STATES: tuple[str, ...] = ("broken", "degraded", "pending", "ok", "unknown")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of statement text; ``marks`` names why it is highlighted (may be empty),
    sorted, once each (a tuple, so a view serialises to JSON as it is)."""

    text: str
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatementView:
    """One statement of a story: its text in marked runs, who said it, the rules
    that fired on it and the words they matched."""

    text: str
    segments: tuple[Segment, ...]
    speaker: str | None
    tags: tuple[str, ...]
    rules: tuple[str, ...]
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertView:
    """One story notification (or per-statement alert) as the page shows it.

    ``statements`` lists every statement (one for an alert); ``rule``,
    ``statement``, ``segments``, ``tags`` and ``speaker`` describe the first,
    and ``rule`` names every rule of a story, comma-separated.
    """

    id: str
    rule: str
    severity: str
    created_at: str
    statement: str
    segments: tuple[Segment, ...]
    tags: tuple[str, ...]
    article_url: str
    article_title: str
    feed_id: str
    speaker: str | None = None
    statements: tuple[StatementView, ...] = ()
    revision: int = 1
    sources: int = 0


@dataclass(frozen=True, slots=True)
class FeedHealthView:
    """One feed's health as the page shows it."""

    feed_id: str
    url: str
    state: str
    failures: int = 0
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    next_poll: str | None = None
    #: The feed's ``title`` from feeds.yaml ("" when it has none).
    title: str = ""


class AlertHistory(Protocol):
    """Alert history, newest first."""

    def recent(self, limit: int) -> Sequence[AlertView]:
        """The ``limit`` most recent alerts."""

    def search(self, query: str, limit: int) -> Sequence[AlertView]:
        """Alerts whose statement, rule or article match ``query``."""

    def close(self) -> None:
        """Release the store."""


class FeedHealthSource(Protocol):
    """The health of every configured feed."""

    def feeds(self) -> Sequence[FeedHealthView]:
        """One row per feed, worst state first."""


# -- the pure part -------------------------------------------------------------
def highlight(text: str, spans: Iterable[tuple[int, int, str]]) -> tuple[Segment, ...]:
    """Split ``text`` into segments at span edges; overlapping spans combine their marks.

    ``spans`` are ``(start, end, mark)`` with offsets into ``text``; spans that
    fall outside it, or are empty, are ignored rather than trusted.
    """
    marks_at: list[set[str]] = [set() for _ in text]
    for start, end, mark in spans:
        if 0 <= start < end <= len(text):
            for i in range(start, end):
                marks_at[i].add(mark)
    segments: list[Segment] = []
    run_start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or marks_at[i] != marks_at[run_start]:
            segments.append(Segment(text[run_start:i], tuple(sorted(marks_at[run_start]))))
            run_start = i
    return tuple(segments)


def _locate(text: str, fragment: str, start: int) -> tuple[int, int] | None:
    """Where ``fragment`` sits in ``text``: at ``start`` if it matches there, else first found."""
    if not fragment:
        return None
    if text[start : start + len(fragment)] == fragment:
        return start, start + len(fragment)
    found = text.find(fragment)
    return (found, found + len(fragment)) if found >= 0 else None


def statement_view(statement: Statement, matches: Iterable[Match],
                   rules: tuple[str, ...]) -> StatementView:
    """Flatten a statement for the page, marking rule matches and tag evidence.

    Every offset counts from the statement's own text (``alert/2``, ``story/1``);
    a statement of an ``alert/1`` payload has evidence offsets into the article
    document, shifted back here by its start. Offsets that do not point at the
    quoted words fall back to a text search.
    """
    text = statement.text
    found = tuple(matches)
    spans: list[tuple[int, int, str]] = []
    for match in found:
        where = _locate(text, match.text, match.start)
        if where:
            spans.append((*where, "match"))
    for evidence in statement.evidence:
        where = _locate(text, evidence.text, evidence.start - statement.start)
        if where:
            spans.append((*where, "evidence"))
    return StatementView(
        text=text, segments=highlight(text, spans), speaker=statement.speaker,
        tags=statement.tags, rules=rules,
        matched=tuple(dict.fromkeys(m.text for m in found)),
    )


def alert_view(item: Alert | StoryNotification) -> AlertView:
    """Flatten a story notification (every statement, with its speaker, rules and
    matched words) or a per-statement alert for the page."""
    if isinstance(item, Alert):
        views: tuple[StatementView, ...] = (
            statement_view(item.statement, item.matches, (item.rule,)),)
        rule, revision = item.rule, 1
    else:
        views = tuple(
            statement_view(s.statement, (m for f in s.rules for m in f.matches),
                           tuple(f.rule for f in s.rules))
            for s in item.statements
        )
        rule, revision = ", ".join(item.rules), item.revision
    first = views[0] if views else StatementView("", (), None, (), (), ())
    return AlertView(
        id=item.id,
        rule=rule,
        severity=item.severity,
        created_at=item.created_at,
        statement=first.text,
        segments=first.segments,
        tags=tuple(dict.fromkeys(t for v in views for t in v.tags)),
        article_url=item.article.url,
        article_title=item.article.title,
        feed_id=item.article.feed_id,
        speaker=first.speaker,
        statements=views,
        revision=revision,
        sources=len(item.sources),
    )


# -- adapters -------------------------------------------------------------------
class NoAlertHistory:
    """The history when no alert store exists (yet): always empty."""

    def recent(self, limit: int) -> Sequence[AlertView]:
        return ()

    def search(self, query: str, limit: int) -> Sequence[AlertView]:
        return ()

    def close(self) -> None:
        return None


class StoreAlertHistory:
    """Adapts the alerts package's store (anything with ``recent``/``search`` of alerts)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def recent(self, limit: int) -> Sequence[AlertView]:
        return self._views(self._store.recent(limit))

    def search(self, query: str, limit: int) -> Sequence[AlertView]:
        return self._views(self._store.search(query, limit))

    def close(self) -> None:
        self._store.close()

    @staticmethod
    def _views(items: Iterable[Any]) -> Sequence[AlertView]:
        return tuple(alert_view(_as_alert(item)) for item in items)


def _as_alert(item: Any) -> Alert | StoryNotification:
    """A stored item as a story or an alert: the item itself, or its ``alert`` attribute."""
    if isinstance(item, (Alert, StoryNotification)):
        return item
    inner = getattr(item, "alert", None)
    if isinstance(inner, (Alert, StoryNotification)):
        return inner
    raise TypeError(f"alert store returned {type(item).__name__}, not an alert")


class ConfiguredFeeds:
    """Feed health from config alone: every configured feed listed, state unknown."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def feeds(self) -> Sequence[FeedHealthView]:
        return tuple(
            FeedHealthView(feed_id=f.id, url=str(f.url), state="unknown", title=f.title)
            for f in self._settings.feeds
        )


class StateFeedHealth:
    """Feed health saved by pollers in ``state_dir``, over the configured feed list.

    ``read_health`` is :func:`monitor.feeds.health.read_health`; its rows
    carry ``feed_id, url, health, failures, last_success, last_error,
    last_error_at, next_poll``.
    """

    def __init__(self, current_settings: Callable[[], Settings], read_health: Any) -> None:
        self._current_settings = current_settings
        self._read_health = read_health

    def feeds(self) -> Sequence[FeedHealthView]:
        settings = self._current_settings()  # feeds may change on SIGHUP
        known = {row.feed_id: row for row in ConfiguredFeeds(settings).feeds()}
        titles = {feed.id: feed.title for feed in settings.feeds}
        for item in self._read_health(settings.state_dir):
            view = _feed_view(item, titles)
            known[view.feed_id] = view
        return sort_worst_first(known.values())


def sort_worst_first(rows: Iterable[FeedHealthView]) -> tuple[FeedHealthView, ...]:
    """Broken feeds on top, then degraded, pending, ok, unknown; by id within a state."""
    rank = {state: i for i, state in enumerate(FEED_STATES)}
    return tuple(sorted(rows, key=lambda r: (rank.get(r.state, len(rank)), r.feed_id)))


def _feed_view(item: Any, titles: Mapping[str, str]) -> FeedHealthView:
    state = str(item.health)
    return FeedHealthView(
        title=titles.get(str(item.feed_id), ""),
        feed_id=str(item.feed_id),
        url=str(item.url),
        state=state if state in FEED_STATES else "unknown",
        failures=int(item.failures),
        last_success=item.last_success,
        last_error=item.last_error,
        last_error_at=item.last_error_at,
        next_poll=item.next_poll,
    )


def open_alert_history(settings: Settings) -> AlertHistory:
    """The alert store in ``settings.state_dir`` if the alerts package provides one."""
    store_class = _optional("monitor.alerts.store", "AlertStore")
    if store_class is None:
        return NoAlertHistory()
    try:
        return StoreAlertHistory(store_class.in_dir(settings.state_dir))
    except Exception as exc:  # the page must come up even when the store cannot
        log.warning("status page: alert history unavailable: %s", exc)
        return NoAlertHistory()


def open_feed_health(current_settings: Callable[[], Settings]) -> FeedHealthSource:
    """Feed health from the feeds package's saved state, over the current feed list."""
    read_health = _optional("monitor.feeds.health", "read_health")
    if read_health is None:
        return StateFeedHealth(current_settings, lambda _state_dir: ())
    return StateFeedHealth(current_settings, read_health)


def _optional(module: str, attr: str) -> Any:
    """``module.attr`` when that module exists, else None (the other package is not there)."""
    try:
        return getattr(importlib.import_module(module), attr, None)
    except ModuleNotFoundError:
        return None
