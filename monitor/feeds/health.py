"""Feed health as other parts of the monitor read it (status command, status page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from monitor.clock import iso_utc
from monitor.feeds.settings import FeedConfig
from monitor.feeds.state import HEALTHS, FeedState, Health
from monitor.feeds.store import saved_health, state_from_json, store_path


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One row of the health table; times are ISO-8601 UTC or None."""

    feed_id: str
    url: str
    health: Health
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    #: None for a feed not polled yet under its present definition.
    next_poll: str | None
    failures: int
    interval_s: float | None


_ORDER = {"broken": 0, "degraded": 1, "pending": 2, "ok": 3}


def read_health(state_dir: Path) -> list[FeedHealth]:
    """Every feed's health as last saved by a poller, sorted worst first.

    Returns an empty list when no poller has run yet in ``state_dir`` or its
    store cannot be read (read through :mod:`monitor.db`, without changing
    the file). This is the local poller's store: with a shared feed list it
    holds only the feeds this machine polled (see :func:`shared_health`).
    """
    rows = saved_health(store_path(state_dir))
    return worst_first([_row(_saved(health), state_from_json(data)) for health, data in rows])


def shared_health(
    entries: Mapping[str, tuple[FeedConfig, FeedState | None]], broken_after: int
) -> list[FeedHealth]:
    """Health rows for every feed of a shared list, from each feed's newest
    record on the feeds topic (definition and state), sorted worst first.

    A feed whose state is missing, or belongs to an earlier definition (another
    URL), is pending: no poller has polled it as configured now.
    """
    rows = [
        _row(state.health(broken_after), state)
        if state is not None and (state.feed_id, state.config_url) == (feed.id, str(feed.url))
        else _pending(feed)
        for feed, state in entries.values()
    ]
    return worst_first(rows)


def worst_first(rows: list[FeedHealth]) -> list[FeedHealth]:
    """``rows`` sorted broken, degraded, pending, ok; by feed id within each."""
    return sorted(rows, key=lambda h: (_ORDER.get(h.health, 9), h.feed_id))


def _pending(feed: FeedConfig) -> FeedHealth:
    return FeedHealth(
        feed_id=feed.id, url=str(feed.url), health="pending", last_success=None,
        last_error=None, last_error_at=None, next_poll=None, failures=0, interval_s=None,
    )


def _row(health: Health, data: FeedState) -> FeedHealth:
    return FeedHealth(
        feed_id=data.feed_id,
        url=data.url,
        health=health,
        last_success=_iso(data.last_success_at),
        last_error=data.last_error,
        last_error_at=_iso(data.last_error_at),
        next_poll=iso_utc(data.next_poll_at),
        failures=data.failures,
        interval_s=data.interval_s,
    )


def _saved(word: str) -> Health:
    """A health word read from the store; one it does not know (written by a
    newer version) reads as broken, so the feed is looked at."""
    return next((health for health in HEALTHS if health == word), "broken")


def _iso(moment: float | None) -> str | None:
    return iso_utc(moment) if moment is not None else None
