"""Alert history and per-receiver delivery progress, in SQLite.

``<state_dir>/alerts.sqlite3`` holds every alert and story notification the
delivery role has read (an alert with sources merged when a late syndicated
copy updates it, a notification as its newest revision) and, per receiver,
whether it was delivered or dead-lettered, and which revision. It backs the status
page, ``monitor alerts list`` and the delivery role's "already delivered"
check after a restart. Rows older than the retention are pruned.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from monitor.alerts.deliverable import (
    Deliverable,
    decode_deliverable,
    revision_of,
    rules_of,
    texts_of,
)
from monitor.bus.codec import encode
from monitor.db import Database
from monitor.errors import DecodeError
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
CREATE TABLE IF NOT EXISTS revisions (
    alert_id TEXT NOT NULL,
    receiver TEXT NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (alert_id, receiver)
);
"""

DELIVERED = "delivered"
DEADLETTERED = "deadlettered"


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert or story notification from the history with its delivery status
    per receiver."""

    alert: Deliverable
    seen_at: float
    deliveries: dict[str, str]


@dataclass(frozen=True, slots=True)
class Settled:
    """A receiver's last outcome for an id: its status, the revision and when."""

    status: str
    revision: int
    at: float


class AlertStore:
    """Read and write the alert history."""

    FILENAME = "alerts.sqlite3"

    def __init__(self, path: Path) -> None:
        self._db = Database(path, _SCHEMA)

    @classmethod
    def in_dir(cls, state_dir: Path) -> AlertStore:
        return cls(state_dir / cls.FILENAME)

    # -- writes ---------------------------------------------------------------
    def record(self, item: Deliverable, now: float) -> Deliverable:
        """Store ``item``; returns what is stored under its id.

        A known alert gets the new sources merged; a story notification is kept
        as its newest revision (an older one arriving late changes nothing).
        """
        merged = item
        with self._db.transaction() as conn:
            row = conn.execute("SELECT payload FROM alerts WHERE id = ?", (item.id,)).fetchone()
            old = _decoded(row[0]) if row is not None else None
            if isinstance(old, Alert) and isinstance(item, Alert):
                extra = tuple(s for s in item.sources if s not in old.sources)
                merged = dataclasses.replace(old, sources=old.sources + extra)
            elif old is not None and revision_of(old) > revision_of(item):
                merged = old
            conn.execute(
                "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE"
                " SET payload = excluded.payload, rule = excluded.rule,"
                " severity = excluded.severity, text = excluded.text",
                (
                    merged.id,
                    ",".join(rules_of(merged)),
                    merged.severity,
                    merged.created_at,
                    now,
                    "\n".join(texts_of(merged)),
                    encode(merged),
                ),
            )
        return merged

    def mark(
        self,
        alert_id: str,
        receiver: str,
        status: str,
        attempts: int,
        detail: str,
        now: float,
        revision: int = 1,
    ) -> None:
        """Record the receiver's outcome for ``alert_id`` (a story's ``revision``)."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
                (alert_id, receiver, status, attempts, detail[:500], now),
            )
            conn.execute(
                "INSERT OR REPLACE INTO revisions VALUES (?, ?, ?, ?, ?)",
                (alert_id, receiver, revision, status, now),
            )

    def prune(self, before: float) -> int:
        """Delete alerts first seen before ``before``; returns how many."""
        with self._db.transaction() as conn:
            for table in ("deliveries", "revisions"):
                conn.execute(
                    f"DELETE FROM {table} WHERE alert_id IN"
                    " (SELECT id FROM alerts WHERE seen_at < ?)",
                    (before,),
                )
            return conn.execute("DELETE FROM alerts WHERE seen_at < ?", (before,)).rowcount

    # -- reads ----------------------------------------------------------------
    def deliveries(self, alert_id: str) -> dict[str, str]:
        rows = self._db.query(
            "SELECT receiver, status FROM deliveries WHERE alert_id = ?", (alert_id,)
        )
        return dict(rows)

    def settled(self, alert_id: str, receiver: str) -> Settled | None:
        """The receiver's last recorded outcome for ``alert_id``, if any (a history
        from before revisions were recorded counts as revision 1)."""
        rows = self._db.query(
            "SELECT status, revision, at FROM revisions WHERE alert_id = ? AND receiver = ?",
            (alert_id, receiver),
        ) or self._db.query(
            "SELECT status, 1, at FROM deliveries WHERE alert_id = ? AND receiver = ?",
            (alert_id, receiver),
        )
        return Settled(*rows[0]) if rows else None

    def get(self, alert_id: str) -> StoredAlert | None:
        found = self._read("WHERE id = ?", (alert_id,), 1)
        return found[0] if found else None

    def recent(self, limit: int = 50) -> list[StoredAlert]:
        """The newest alerts first."""
        return self._read("", (), limit)

    def search(self, query: str, limit: int = 50) -> list[StoredAlert]:
        """Alerts whose statement texts or rules contain ``query`` (case-insensitive)."""
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self._read(
            "WHERE text LIKE ? ESCAPE '\\' OR rule LIKE ? ESCAPE '\\'", (pattern, pattern), limit
        )

    def _read(self, where: str, params: tuple[object, ...], limit: int) -> list[StoredAlert]:
        rows = self._db.query(
            f"SELECT id, payload, seen_at FROM alerts {where} ORDER BY seen_at DESC, id LIMIT ?",
            (*params, limit),
        )
        found = []
        for aid, payload, seen in rows:
            item = _decoded(payload)
            if item is not None:  # a payload of an earlier version is not shown
                found.append(StoredAlert(item, seen, self.deliveries(aid)))
        return found

    def close(self) -> None:
        self._db.close()


def _decoded(payload: bytes) -> Deliverable | None:
    try:
        return decode_deliverable(bytes(payload))
    except DecodeError:
        return None
