"""The poller's durable memory: feed state and articles already published.

One small SQLite file under the state directory (``poller/feeds.sqlite3``),
in WAL mode so ``monitor feeds status`` can read while the poller writes.
One connection is shared by the poller's threads behind a lock; every call
is one short transaction.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from monitor.errors import PermanentError
from monitor.feeds.state import FeedState, Health
from monitor.messages import Article, Source

STORE_FILE = Path("poller") / "feeds.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_state (
    feed_id TEXT PRIMARY KEY,
    health TEXT NOT NULL,
    next_poll_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    first_seen REAL NOT NULL,
    url TEXT NOT NULL,
    sources TEXT NOT NULL
);
"""


class StoreError(PermanentError):
    """The state store cannot be opened or written."""

    reason = "state_store"


def store_path(state_dir: Path) -> Path:
    """Where the poller keeps its SQLite file inside ``state_dir``."""
    return state_dir / STORE_FILE


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the store file (creating it unless ``readonly``)."""
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"{path}: cannot open poller state: {exc}") from exc
    return conn


def state_to_json(state: FeedState) -> str:
    return json.dumps(dataclasses.asdict(state), separators=(",", ":"))


def state_from_json(text: str) -> FeedState:
    data = json.loads(text)
    data["recent_item_times"] = tuple(data.get("recent_item_times") or ())
    data["recent_ids"] = tuple(data.get("recent_ids") or ())
    return FeedState(**data)


class PollerStore:
    """Feed states and the set of published article ids, across restarts."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> PollerStore:
        return cls(store_path(state_dir))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def load_states(self) -> dict[str, FeedState]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM feed_state").fetchall()
        states = (state_from_json(row[0]) for row in rows)
        return {state.feed_id: state for state in states}

    def save_state(self, state: FeedState, health: Health) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO feed_state (feed_id, health, next_poll_at, data) "
                "VALUES (?, ?, ?, ?)",
                (state.feed_id, health, state.next_poll_at, state_to_json(state)),
            )

    def save_states(self, states: Sequence[tuple[FeedState, Health]]) -> None:
        """Save many states in one transaction (imports, benchmarks)."""
        rows = [(s.feed_id, h, s.next_poll_at, state_to_json(s)) for s, h in states]
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO feed_state (feed_id, health, next_poll_at, data) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
            self._conn.execute("COMMIT")

    def forget_feeds(self, feed_ids: Iterable[str]) -> None:
        with self._lock:
            self._conn.executemany(
                "DELETE FROM feed_state WHERE feed_id = ?", [(f,) for f in feed_ids]
            )

    def seen(self, article_ids: Sequence[str]) -> set[str]:
        """The subset of ``article_ids`` already published."""
        return set(self._lookup("id", article_ids))

    def known_sources(self, article_ids: Sequence[str]) -> dict[str, tuple[Source, ...]]:
        """The recorded sources of those of ``article_ids`` already published."""
        return {
            article_id: tuple(Source(**s) for s in json.loads(text))
            for article_id, text in self._lookup("sources", article_ids).items()
        }

    def _lookup(self, column: str, article_ids: Sequence[str]) -> dict[str, str]:
        """``column`` of each published article among ``article_ids``, by id."""
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(article_ids), 500):
                chunk = list(article_ids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT id, {column} FROM articles WHERE id IN ({marks})", chunk
                ).fetchall()
                found.update((row[0], row[1]) for row in rows)
        return found

    def sources(self, article_id: str) -> tuple[Source, ...]:
        with self._lock:
            row = self._conn.execute(
                "SELECT sources FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
        return tuple(Source(**s) for s in json.loads(row[0])) if row else ()

    def add_source(self, article_id: str, source: Source) -> bool:
        """Record that another feed carried a published article; True if new.

        The poller calls it after the revision listing ``source`` was flushed
        to the bus, so a feed is recorded only once the bus has heard of it.
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT sources FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            if row is None:
                return False
            known = json.loads(row[0])
            if any(s["feed_id"] == source.feed_id for s in known):
                return False
            known.append(dataclasses.asdict(source))
            self._conn.execute(
                "UPDATE articles SET sources = ? WHERE id = ?", (json.dumps(known), article_id)
            )
            return True

    def record_published(self, articles: Sequence[Article], now: float) -> None:
        """Remember published articles so they are never published again."""
        rows = [
            (a.id, now, a.url, json.dumps([dataclasses.asdict(s) for s in a.sources]))
            for a in articles
        ]
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR IGNORE INTO articles (id, first_seen, url, sources) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
            self._conn.execute("COMMIT")
