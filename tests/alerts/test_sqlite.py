"""The SQLite wrapper the alert stores share."""

from __future__ import annotations

from pathlib import Path

from monitor.alerts.sqlite import WAL_SIZE_LIMIT_BYTES, Database


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
