"""Feed health as other parts of the monitor read it (status command, status page)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from monitor.clock import iso_utc
from monitor.feeds.state import FeedState, Health
from monitor.feeds.store import connect, state_from_json, store_path


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One row of the health table; times are ISO-8601 UTC or None."""

    feed_id: str
    url: str
    health: Health
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    next_poll: str
    failures: int
    interval_s: float | None


def read_health(state_dir: Path) -> list[FeedHealth]:
    """Every feed's health as last saved by a poller, sorted worst first.

    Returns an empty list when no poller has run yet in ``state_dir``.
    """
    path = store_path(state_dir)
    if not path.exists():
        return []
    conn = connect(path, readonly=True)
    try:
        rows = conn.execute("SELECT health, data FROM feed_state").fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    order = {"broken": 0, "degraded": 1, "pending": 2, "ok": 3}
    result = [_row(health, state_from_json(data)) for health, data in rows]
    return sorted(result, key=lambda h: (order.get(h.health, 9), h.feed_id))


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


def _iso(moment: float | None) -> str | None:
    return iso_utc(moment) if moment is not None else None
