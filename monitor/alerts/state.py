"""The sink's memory: stories, emissions, silences and story notifications in SQLite.

The thin I/O shell around :func:`monitor.alerts.story.decide` and
:func:`monitor.alerts.grouping.regroup`: it loads what the decisions need,
and stores what they changed. Lives in
``<state_dir>/alert-state.sqlite3``; losing it is safe (alerts repeat once,
receivers de-duplicate by id) but it should be kept across restarts.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.alerts.grouping import GroupDecision, regroup, story_of
from monitor.alerts.matching import normalise
from monitor.alerts.story import Decision, Policy, Silence, Story, decide, length_band
from monitor.bus.codec import decode, encode
from monitor.db import Database
from monitor.errors import DecodeError
from monitor.messages import Alert, StoryNotification

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stories (
    alert_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    text TEXT NOT NULL,
    first_seen REAL NOT NULL,
    alert BLOB NOT NULL,
    article_ids TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stories_rule ON stories (rule, first_seen);
CREATE TABLE IF NOT EXISTS emissions (rule TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS emissions_rule ON emissions (rule, at);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY,
    rule TEXT,
    labels TEXT NOT NULL,
    starts REAL NOT NULL,
    ends REAL NOT NULL,
    comment TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    updated REAL NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS story_members (
    alert_id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    at REAL NOT NULL
);
"""


class StateStore:
    """Stories, emissions and silences; every method is one short transaction.

    Story state is local to one machine: every process of the alerts role
    must share this file (same state_dir) or the role must run as one process.
    """

    FILENAME = "alert-state.sqlite3"

    def __init__(self, path: Path) -> None:
        self._db = Database(path, _SCHEMA)
        # Every decision reads the whole story window; decoding each stored alert
        # again made that quadratic. A stored blob never changes meaning, so its
        # decoded (frozen) Alert is memoised by the blob itself.
        self._decode_alert = functools.lru_cache(maxsize=16384)(_decode_alert)

    @classmethod
    def in_dir(cls, state_dir: Path) -> StateStore:
        return cls(state_dir / cls.FILENAME)

    @classmethod
    def in_memory(cls) -> StateStore:
        """A throw-away store that lives in memory (``rules backtest`` decides on one)."""
        return cls(Path(":memory:"))

    def decide_and_record(self, candidate: Alert, now: float, policy: Policy) -> Decision:
        """Load the inputs, take the pure decision, persist its outcome.

        All three happen in one write (``BEGIN IMMEDIATE``) transaction: another
        process deciding on the same file waits for it (busy timeout) and then
        sees its outcome, so two sinks sharing a state_dir cannot both emit one
        story. Raises StoreError when the file stays locked or cannot be written.
        """
        with self._db.transaction() as conn:
            decision = self._decide(conn, candidate, now, policy)
            if decision.story is not None:
                emitted_at = now if decision.action == "emit" else None
                _save(conn, decision.story, emitted_at)
        return decision

    def _decide(
        self, conn: sqlite3.Connection, candidate: Alert, now: float, policy: Policy
    ) -> Decision:
        # Near-duplicates are looked for in the story window only; the much longer
        # repeat window needs just the exact id.
        shortest, longest = length_band(len(normalise(candidate.statement.text)))
        stories = self._stories(_rows(conn, _STORIES_OF_RULE_NEAR_LENGTH, (
            candidate.rule, now - policy.story_window_s, shortest, longest,
            policy.max_candidates)))
        if not any(s.alert.id == candidate.id for s in stories):
            stories.extend(self._stories(
                _rows(conn, _STORY_BY_ID, (candidate.id, now - policy.repeat_window_s))))
        emissions = [at for (at,) in _rows(
            conn, _EMISSIONS, (candidate.rule, now - policy.rate_limit_per_s))]
        silences = _silences(_rows(conn, _SILENCES, (now,)))
        return decide(candidate, stories, emissions, silences, now, policy)

    def group_and_record(
        self, article_id: str, linked: Sequence[str], alerts: Sequence[Alert],
        replayed: bool, now: float,
    ) -> GroupDecision:
        """Group one article's alerts into its story's notification and store it.

        ``linked`` are the per-statement alert ids the article's hits belong to
        (published or not), which find the story (:func:`story_of`); ``alerts``
        are the ones published. One write transaction, like :meth:`decide_and_record`.
        """
        with self._db.transaction() as conn:
            ids = list(dict.fromkeys(linked))
            marks = ",".join("?" * len(ids))
            membership = dict(_rows(conn, "SELECT alert_id, notification_id FROM story_members"
                                    f" WHERE alert_id IN ({marks})", ids)) if ids else {}
            notification_id = story_of(article_id, ids, membership)
            found = _rows(conn, "SELECT payload FROM notifications WHERE id = ?",
                          (notification_id,))
            current = _decode_notification(bytes(found[0][0])) if found else None
            decision = regroup(current, notification_id, alerts, replayed, now)
            if decision.action in ("new", "revise") and decision.notification is not None:
                _save_notification(conn, decision.notification, ids, now)
        return decision

    def notification(self, notification_id: str) -> StoryNotification | None:
        """The story's notification as last published, if known."""
        rows = self._db.query("SELECT payload FROM notifications WHERE id = ?",
                              (notification_id,))
        return _decode_notification(bytes(rows[0][0])) if rows else None

    def stories(self, rule: str, since: float) -> list[Story]:
        return self._stories(self._db.query(_STORIES_OF_RULE, (rule, since)))

    def _stories(self, rows: list[tuple[Any, ...]]) -> list[Story]:
        stories = []
        for alert, text, first_seen, ids in rows:
            try:
                decoded = self._decode_alert(bytes(alert))
            except DecodeError:  # an earlier payload version: forgotten, like a lost file
                continue
            stories.append(Story(decoded, text, first_seen, frozenset(json.loads(ids))))
        return stories

    # -- silences -------------------------------------------------------------
    def add_silence(
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

    def silences(self, now: float) -> list[Silence]:
        """Silences that have not ended at ``now``."""
        return _silences(self._db.query(_SILENCES, (now,)))

    def expire_silence(self, silence_id: str, now: float) -> bool:
        with self._db.transaction() as conn:
            cursor = conn.execute("UPDATE silences SET ends = ? WHERE id = ? AND ends > ?",
                                  (now, silence_id, now))
            return cursor.rowcount > 0

    def prune(self, before: float) -> None:
        """Forget stories and emissions older than ``before`` and ended silences."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM stories WHERE first_seen < ?", (before,))
            conn.execute("DELETE FROM emissions WHERE at < ?", (before,))
            conn.execute("DELETE FROM silences WHERE ends < ?", (before,))
            conn.execute("DELETE FROM notifications WHERE updated < ?", (before,))
            conn.execute("DELETE FROM story_members WHERE at < ?", (before,))

    def close(self) -> None:
        self._db.close()


_STORIES_OF_RULE = (
    "SELECT alert, text, first_seen, article_ids FROM stories"
    " WHERE rule = ? AND first_seen > ? ORDER BY first_seen"
)
# The same, narrowed in SQL to texts of a comparable length: a busy rule's story
# window holds thousands of stories, and decoding each one in Python for every
# candidate made a decision cost grow with the window.
_STORIES_OF_RULE_NEAR_LENGTH = (
    "SELECT * FROM (SELECT alert, text, first_seen, article_ids FROM stories"
    " WHERE rule = ? AND first_seen > ? AND length(text) BETWEEN ? AND ?"
    " ORDER BY first_seen DESC LIMIT ?) ORDER BY first_seen"
)
_STORY_BY_ID = (
    "SELECT alert, text, first_seen, article_ids FROM stories"
    " WHERE alert_id = ? AND first_seen > ?"
)
_EMISSIONS = "SELECT at FROM emissions WHERE rule = ? AND at > ?"
_SILENCES = (
    "SELECT id, rule, labels, starts, ends, comment FROM silences WHERE ends > ?"
    " ORDER BY starts"
)


def _rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    return list(conn.execute(sql, params).fetchall())


def _save(conn: sqlite3.Connection, story: Story, emitted_at: float | None) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO stories VALUES (?, ?, ?, ?, ?, ?)",
        (story.alert.id, story.alert.rule, story.text, story.first_seen,
         encode(story.alert), json.dumps(sorted(story.article_ids))),
    )
    if emitted_at is not None:
        conn.execute("INSERT INTO emissions VALUES (?, ?)", (story.alert.rule, emitted_at))


def _silences(rows: list[tuple[Any, ...]]) -> list[Silence]:
    return [
        Silence(sid, starts, ends, rule, tuple(sorted(json.loads(labels).items())), comment)
        for sid, rule, labels, starts, ends, comment in rows
    ]


def _save_notification(
    conn: sqlite3.Connection, notification: StoryNotification, linked: Sequence[str], now: float
) -> None:
    conn.execute("INSERT OR REPLACE INTO notifications VALUES (?, ?, ?)",
                 (notification.id, now, encode(notification)))
    members = {f.alert_id for s in notification.statements for f in s.rules} | set(linked)
    conn.executemany("INSERT OR REPLACE INTO story_members VALUES (?, ?, ?)",
                     [(alert_id, notification.id, now) for alert_id in sorted(members)])


def _decode_alert(blob: bytes) -> Alert:
    return decode(blob, Alert)


def _decode_notification(blob: bytes) -> StoryNotification | None:
    try:
        return decode(blob, StoryNotification)
    except DecodeError:
        return None
