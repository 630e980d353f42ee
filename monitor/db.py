"""The one SQLite wrapper every local store uses.

Each store owns one database file under ``settings.state_dir``: the poller's
feed states and published ids, the alerts stage's stories, the delivery
history. WAL mode lets readers (the status page, ``monitor feeds status``)
read while a role writes; a busy timeout makes writers from several
processes on one machine wait for each other instead of failing. One
connection is shared by a role's threads under a lock.

No ``sqlite3`` exception leaves this module. Errors are translated by
SQLite's primary result code:

* busy, locked, out of memory, disk full, I/O error, interrupted, protocol
  → :class:`StoreError` (retryable: a lock is released, space is freed, a
  device comes back; the caller keeps its work and tries again later);
* anything else (corrupt, not a database, read-only, cannot open, misuse,
  a constraint broken by our own SQL) → :class:`StoreCorrupt` (permanent:
  trying again will not help).

A write transaction rolls back when its block raises, whatever it raised.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError, PermanentError, RetryableError

#: Pages (4 KiB) written to the WAL before SQLite folds them into the database.
WAL_CHECKPOINT_PAGES = 128
#: What an idle WAL file is truncated to after a checkpoint.
WAL_SIZE_LIMIT_BYTES = 1024 * 1024
#: How long a writer waits for another connection's lock before giving up.
BUSY_TIMEOUT_S = 10.0

#: Primary result codes of failures that may pass (SQLite's ``SQLITE_*`` numbers).
_TRANSIENT_CODES = frozenset({
    5,   # SQLITE_BUSY
    6,   # SQLITE_LOCKED
    7,   # SQLITE_NOMEM
    9,   # SQLITE_INTERRUPT
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL
    15,  # SQLITE_PROTOCOL
})


class StoreError(RetryableError):
    """The local state database could not be used right now (locked, disk full, I/O)."""

    reason = "store"


class StoreCorrupt(PermanentError):
    """The local state database is unreadable, read-only or not ours."""

    reason = "store_corrupt"


def translate(path: Path, exc: sqlite3.Error) -> MonitorError:
    """The monitor's error for a sqlite3 exception raised on ``path``."""
    code = getattr(exc, "sqlite_errorcode", None)
    message = f"{path}: {exc}"
    if code is not None:
        return StoreError(message) if code & 0xFF in _TRANSIENT_CODES else StoreCorrupt(message)
    # No result code: the module's own checks (closed connection, bad parameters)
    # are misuse; an OperationalError without one is taken to be transient.
    if isinstance(exc, sqlite3.OperationalError):
        return StoreError(message)
    return StoreCorrupt(message)


class Database:
    """One SQLite file, opened in WAL mode with ``schema`` applied, or read-only.

    ``readonly`` opens an existing file without creating or changing it (a
    reader in another process); its :meth:`transaction` is not to be used.
    """

    def __init__(self, path: Path, schema: str = "", *, readonly: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            if readonly:
                self._conn = sqlite3.connect(
                    f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                    check_same_thread=False, isolation_level=None,
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(
                    path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
                )
                self._configure(schema)
        except sqlite3.Error as exc:
            raise StoreCorrupt(f"{path}: cannot open state database: {exc}") from exc
        except OSError as exc:
            raise StoreCorrupt(f"{path}: cannot create state directory: {exc}") from exc

    def _configure(self, schema: str) -> None:
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        # Keep the write-ahead log small: by default it grows to ~4 MB per file
        # before a checkpoint, and on a nearly full disk that working room
        # alone can fill the space freed for it (docs/reliability.md, disk-full).
        self._conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        self._conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        if schema:
            self._conn.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed when the block ends
        and rolled back when it raises; SQLite errors become :class:`StoreError`
        or :class:`StoreCorrupt`. The connection is for use inside the block only."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._rollback()
                    raise
                self._commit()
            except sqlite3.Error as exc:
                raise translate(self.path, exc) from exc

    def _commit(self) -> None:
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error:
            self._rollback()  # a failed COMMIT (disk full) can leave the transaction open
            raise

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            # SQLite may have rolled back already (some I/O errors and full disks do).
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of one read."""
        with self._lock:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise translate(self.path, exc) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()
