"""A small shared wrapper around sqlite3 for the alert stores.

Each store owns one database file under ``settings.state_dir``. WAL mode lets
the status page read while the sink writes; a busy timeout makes concurrent
writers from several processes on one machine wait instead of failing.
Connections are shared by a role's threads under a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from monitor.errors import PermanentError, RetryableError

#: Pages (4 KiB) written to the WAL before SQLite folds them into the database.
WAL_CHECKPOINT_PAGES = 128
#: What an idle WAL file is truncated to after a checkpoint.
WAL_SIZE_LIMIT_BYTES = 1024 * 1024


class StoreError(RetryableError):
    """The local state database could not be used right now (locked, disk full)."""

    reason = "store"


class StoreCorrupt(PermanentError):
    """The local state database is unreadable or not ours."""

    reason = "store_corrupt"


class Database:
    """One SQLite file with a schema applied on open."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False,
                                         isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # Keep the write-ahead log small: by default it grows to ~4 MB per file
            # before a checkpoint, and on a nearly full disk that working room
            # alone can fill the space freed for it (docs/reliability.md, disk-full).
            self._conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self._conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
            self._conn.executescript(schema)
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupt(f"{path}: cannot open state database: {exc}") from exc
        except OSError as exc:
            raise StoreCorrupt(f"{path}: cannot create state directory: {exc}") from exc
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; errors become StoreError."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()
