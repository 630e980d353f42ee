"""The SQLite wrapper every store shares."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.db import WAL_SIZE_LIMIT_BYTES, Database, StoreCorrupt, StoreError, translate


def test_the_write_ahead_log_stays_small_under_many_writes(tmp_path: Path) -> None:
    """Default SQLite lets each WAL grow to ~4 MB; on a nearly full disk that room
    is what runs out first, so the stores keep theirs near a megabyte."""
    db = Database(tmp_path / "s.sqlite3", "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);")
    wal = tmp_path / "s.sqlite3-wal"
    largest = 0
    for key in range(2000):  # ~8 MB of rows, one transaction each, as the stores write
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (?, ?)", (key, b"x" * 4000))
        largest = max(largest, wal.stat().st_size)
    db.close()
    assert largest <= 2 * WAL_SIZE_LIMIT_BYTES


def _full_database(tmp_path: Path) -> Database:
    """A database that holds a few pages at most: SQLite answers SQLITE_FULL
    ("database or disk is full") as it does on a full disk."""
    db = Database(tmp_path / "f.sqlite3", "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);")
    with db.transaction() as conn:
        conn.execute("PRAGMA max_page_count = 8")
    return db


def test_a_full_disk_is_a_retryable_store_error_and_the_transaction_rolls_back(
    tmp_path: Path,
) -> None:
    db = _full_database(tmp_path)
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1, ?)", (b"kept",))
    with pytest.raises(StoreError, match="full") as caught, db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (2, ?)", (b"small",))
        conn.execute("INSERT INTO t VALUES (3, ?)", (b"x" * 100_000,))
    assert caught.value.kind == "retryable" and caught.value.reason == "store"
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert db.query("SELECT k FROM t") == [(1,)]  # the small row went with the rollback
    with db.transaction() as conn:  # and the connection is usable again
        conn.execute("INSERT INTO t VALUES (4, ?)", (b"after",))
    assert db.query("SELECT k FROM t ORDER BY k") == [(1,), (4,)]
    db.close()


def test_an_error_raised_inside_a_transaction_rolls_it_back_and_passes_through(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "s.sqlite3", "CREATE TABLE t (k INTEGER PRIMARY KEY);")
    with pytest.raises(KeyError), db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        raise KeyError("mine")
    assert db.query("SELECT k FROM t") == []
    db.close()


def test_a_broken_constraint_or_bad_sql_is_permanent(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.sqlite3", "CREATE TABLE t (k INTEGER PRIMARY KEY);")
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(StoreCorrupt) as caught, db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
    assert caught.value.kind == "permanent"
    with pytest.raises(StoreCorrupt):
        db.query("SELECT nothing FROM nowhere")
    db.close()


def test_a_file_that_is_not_a_database_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"not a database, not at all" * 100)
    with pytest.raises(StoreCorrupt, match="cannot open"):
        Database(path, "CREATE TABLE t (k INTEGER);")


def test_a_read_only_database_reads_without_creating_or_writing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with pytest.raises(StoreCorrupt):
        Database(path, readonly=True)
    assert not path.exists()
    writer = Database(path, "CREATE TABLE t (k INTEGER);")
    with writer.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (7)")
    reader = Database(path, readonly=True)
    assert reader.query("SELECT k FROM t") == [(7,)]
    # SQLITE_READONLY: no use trying again
    with pytest.raises(StoreCorrupt), reader.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (8)")
    reader.close()
    writer.close()


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (sqlite3.SQLITE_BUSY, "retryable"),
        (sqlite3.SQLITE_LOCKED, "retryable"),
        (sqlite3.SQLITE_FULL, "retryable"),
        (sqlite3.SQLITE_IOERR, "retryable"),
        (sqlite3.SQLITE_IOERR | (4 << 8), "retryable"),  # SQLITE_IOERR_WRITE, extended
        (sqlite3.SQLITE_CORRUPT, "permanent"),
        (sqlite3.SQLITE_NOTADB, "permanent"),
        (sqlite3.SQLITE_READONLY, "permanent"),
        (sqlite3.SQLITE_CANTOPEN, "permanent"),
    ],
)
def test_errors_are_sorted_by_their_primary_result_code(code: int, kind: str) -> None:
    exc = sqlite3.OperationalError("boom")
    exc.sqlite_errorcode = code
    assert translate(Path("x.sqlite3"), exc).kind == kind


def test_errors_without_a_result_code_are_transient_only_when_operational() -> None:
    assert translate(Path("x"), sqlite3.OperationalError("locked")).kind == "retryable"
    assert translate(Path("x"), sqlite3.ProgrammingError("closed")).kind == "permanent"
