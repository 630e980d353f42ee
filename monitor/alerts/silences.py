"""Silences: alerts of a rule or with given labels are not raised for a while.

Kept in ``<state_dir>/alert-state.sqlite3`` (the file that held all of the
sink's state before its stories moved to the changelog; silences made then are
still read). ``monitor alerts silence`` writes it and the story decisions read
the active ones, so a silence reaches the alert sinks that share the state
folder: on several machines it must be made on each (see
docs/architecture.md, "State on Kafka").
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from monitor.alerts.story import Silence
from monitor.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY,
    rule TEXT,
    labels TEXT NOT NULL,
    starts REAL NOT NULL,
    ends REAL NOT NULL,
    comment TEXT NOT NULL
);
"""

_ACTIVE = (
    "SELECT id, rule, labels, starts, ends, comment FROM silences WHERE ends > ?"
    " ORDER BY starts"
)


class SilenceStore:
    """Silences in SQLite; every method is one short transaction."""

    FILENAME = "alert-state.sqlite3"

    def __init__(self, path: Path) -> None:
        self._db = Database(path, _SCHEMA)

    @classmethod
    def in_dir(cls, state_dir: Path) -> SilenceStore:
        return cls(state_dir / cls.FILENAME)

    def add(
        self,
        starts: float,
        ends: float,
        rule: str | None = None,
        labels: dict[str, str] | None = None,
        comment: str = "",
    ) -> Silence:
        """Create a silence; at least a rule or one label must be given."""
        if rule is None and not labels:
            raise ValueError("a silence needs a rule or at least one label")
        silence = Silence(uuid.uuid4().hex[:12], starts, ends, rule,
                          tuple(sorted((labels or {}).items())), comment)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO silences VALUES (?, ?, ?, ?, ?, ?)",
                (silence.id, rule, json.dumps(dict(silence.labels)), starts, ends, comment),
            )
        return silence

    def active(self, now: float) -> list[Silence]:
        """Silences that have not ended at ``now``."""
        return [_silence(row) for row in self._db.query(_ACTIVE, (now,))]

    def expire(self, silence_id: str, now: float) -> bool:
        """End a silence now; False when there is no such active silence."""
        with self._db.transaction() as conn:
            cursor = conn.execute("UPDATE silences SET ends = ? WHERE id = ? AND ends > ?",
                                  (now, silence_id, now))
            return cursor.rowcount > 0

    def prune(self, before: float) -> None:
        """Forget silences that ended before ``before``."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM silences WHERE ends < ?", (before,))

    def close(self) -> None:
        self._db.close()


def _silence(row: tuple[Any, ...]) -> Silence:
    sid, rule, labels, starts, ends, comment = row
    return Silence(sid, starts, ends, rule, tuple(sorted(json.loads(labels).items())), comment)
