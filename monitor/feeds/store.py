"""The poller's durable memory of feed state.

The articles already published are not kept here: the publisher stage keeps
them on Kafka (:mod:`monitor.feeds.seen`). A file from an earlier version may
still hold an ``articles`` table; it is no longer read.

One small SQLite file under the state directory (``poller/feeds.sqlite3``),
opened through :class:`monitor.db.Database` (WAL mode, so ``monitor feeds
status`` can read while the poller writes; one connection shared by the
poller's threads behind a lock). Every call is one short transaction, rolled
back if it fails; a locked file, a full disk or an I/O error raises
:class:`~monitor.db.StoreError` (retryable), an unusable file
:class:`~monitor.db.StoreCorrupt` (permanent).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from monitor.db import Database, StoreCorrupt, StoreError
from monitor.feeds.state import FeedState, Health

STORE_FILE = Path("poller") / "feeds.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_state (
    feed_id TEXT PRIMARY KEY,
    health TEXT NOT NULL,
    next_poll_at REAL NOT NULL,
    data TEXT NOT NULL
);
"""


def store_path(state_dir: Path) -> Path:
    """Where the poller keeps its SQLite file inside ``state_dir``."""
    return state_dir / STORE_FILE


def saved_health(path: Path) -> list[tuple[str, str]]:
    """``(health, state JSON)`` of every feed saved in the store at ``path``,
    read without changing the file; empty when there is no usable store."""
    if not path.exists():
        return []
    try:
        db = Database(path, readonly=True)
    except StoreCorrupt:
        return []
    try:
        return [(str(h), str(d)) for h, d in db.query("SELECT health, data FROM feed_state")]
    except (StoreCorrupt, StoreError):
        return []
    finally:
        db.close()


def state_to_json(state: FeedState) -> str:
    return json.dumps(dataclasses.asdict(state), separators=(",", ":"))


def state_from_json(text: str) -> FeedState:
    data = json.loads(text)
    data["recent_item_times"] = tuple(data.get("recent_item_times") or ())
    data["recent_ids"] = tuple(data.get("recent_ids") or ())
    return FeedState(**data)


class PollerStore:
    """Feed states, across restarts."""

    def __init__(self, path: Path) -> None:
        self._db = Database(path, _SCHEMA)

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> PollerStore:
        return cls(store_path(state_dir))

    def close(self) -> None:
        self._db.close()

    def load_states(self) -> dict[str, FeedState]:
        rows = self._db.query("SELECT data FROM feed_state")
        states = (state_from_json(row[0]) for row in rows)
        return {state.feed_id: state for state in states}

    def save_state(self, state: FeedState, health: Health) -> None:
        self.save_states([(state, health)])

    def save_states(self, states: Sequence[tuple[FeedState, Health]]) -> None:
        """Save states in one transaction."""
        rows = [(s.feed_id, h, s.next_poll_at, state_to_json(s)) for s, h in states]
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO feed_state (feed_id, health, next_poll_at, data) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )

    def forget_feeds(self, feed_ids: Iterable[str]) -> None:
        with self._db.transaction() as conn:
            conn.executemany("DELETE FROM feed_state WHERE feed_id = ?", [(f,) for f in feed_ids])
