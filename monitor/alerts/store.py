"""Alert history and per-receiver delivery progress, in SQLite.

``<state_dir>/alerts.sqlite3`` holds every alert the delivery role has read
(with sources merged when a late syndicated copy updates it) and, per
receiver, whether it was delivered or dead-lettered. It backs the status
page, ``monitor alerts list`` and the delivery role's "already delivered"
check after a restart. Rows older than the retention are pruned.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from monitor.bus.codec import decode, encode
from monitor.db import Database
from monitor.messages import Alert

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at REAL NOT NULL,
    text TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_seen ON alerts (seen_at);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL,
    receiver TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    detail TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (alert_id, receiver)
);
"""

DELIVERED = "delivered"
DEADLETTERED = "deadlettered"


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert from the history with its delivery status per receiver."""

    alert: Alert
    seen_at: float
    deliveries: dict[str, str]


class AlertStore:
    """Read and write the alert history."""

    FILENAME = "alerts.sqlite3"

    def __init__(self, path: Path) -> None:
        self._db = Database(path, _SCHEMA)

    @classmethod
    def in_dir(cls, state_dir: Path) -> AlertStore:
        return cls(state_dir / cls.FILENAME)

    # -- writes ---------------------------------------------------------------
    def record(self, alert: Alert, now: float) -> Alert:
        """Store ``alert``; if its id is known, merge the sources. Returns the stored alert."""
        merged = alert
        with self._db.transaction() as conn:
            row = conn.execute("SELECT payload FROM alerts WHERE id = ?", (alert.id,)).fetchone()
            if row is not None:
                old = decode(row[0], Alert)
                extra = tuple(s for s in alert.sources if s not in old.sources)
                merged = dataclasses.replace(old, sources=old.sources + extra)
            conn.execute(
                "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE"
                " SET payload = excluded.payload",
                (merged.id, merged.rule, merged.severity, merged.created_at, now,
                 merged.statement.text, encode(merged)),
            )
        return merged

    def mark(
        self, alert_id: str, receiver: str, status: str, attempts: int, detail: str, now: float
    ) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
                (alert_id, receiver, status, attempts, detail[:500], now),
            )

    def prune(self, before: float) -> int:
        """Delete alerts first seen before ``before``; returns how many."""
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM deliveries WHERE alert_id IN"
                " (SELECT id FROM alerts WHERE seen_at < ?)", (before,)
            )
            return conn.execute("DELETE FROM alerts WHERE seen_at < ?", (before,)).rowcount

    # -- reads ----------------------------------------------------------------
    def deliveries(self, alert_id: str) -> dict[str, str]:
        rows = self._db.query(
            "SELECT receiver, status FROM deliveries WHERE alert_id = ?", (alert_id,)
        )
        return dict(rows)

    def get(self, alert_id: str) -> StoredAlert | None:
        found = self._read("WHERE id = ?", (alert_id,), 1)
        return found[0] if found else None

    def recent(self, limit: int = 50) -> list[StoredAlert]:
        """The newest alerts first."""
        return self._read("", (), limit)

    def search(self, query: str, limit: int = 50) -> list[StoredAlert]:
        """Alerts whose statement text or rule contains ``query`` (case-insensitive)."""
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self._read(
            "WHERE text LIKE ? ESCAPE '\\' OR rule LIKE ? ESCAPE '\\'", (pattern, pattern), limit
        )

    def _read(self, where: str, params: tuple[object, ...], limit: int) -> list[StoredAlert]:
        rows = self._db.query(
            f"SELECT id, payload, seen_at FROM alerts {where} ORDER BY seen_at DESC, id LIMIT ?",
            (*params, limit),
        )
        return [StoredAlert(decode(p, Alert), seen, self.deliveries(aid)) for aid, p, seen in rows]

    def close(self) -> None:
        self._db.close()
