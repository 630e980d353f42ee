"""Silences: alerts of a rule or with given labels are not raised for a while.

``monitor alerts silence`` (and ``silences``, ``unsilence``) write and read
them; the story decisions are given the active ones. Two homes behind one
protocol, :class:`Silences`, chosen by the bus (:func:`silences_for`):

* on Kafka, :class:`SilenceTopic`: the compacted topic ``alerts_silences``,
  keyed by silence id. Every alerts process follows it on a thread of its own
  (a table reader in a consumer group of its own, so it holds every partition),
  so a silence made on any machine reaches every sink and survives any
  machine (docs/architecture.md, "State on Kafka");
* on the embedded bus, which lives inside the daemon and which the command
  line cannot reach, :class:`SilenceStore`: ``<state_dir>/alert-state.sqlite3``,
  shared by the daemon and the commands on one machine.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from monitor.alerts.story import Silence
from monitor.bus.base import Bus, Producer, Record, TableReader, TopicPartition
from monitor.bus.codec import decode, encode
from monitor.db import Database
from monitor.errors import DecodeError, MonitorError, RetryableError
from monitor.messages import SilenceEntry
from monitor.text import one_line

if TYPE_CHECKING:
    from monitor.config import Settings

log = logging.getLogger(__name__)

#: How long a decision waits for a follower to have read the silences topic once.
READY_WAIT_S = 30.0
#: How long the commands may take to read the silences topic whole.
READ_TIMEOUT_S = 30.0


class Silences(Protocol):
    """Where silences are made, ended and looked up."""

    def add(
        self,
        starts: float,
        ends: float,
        rule: str | None = None,
        labels: dict[str, str] | None = None,
        comment: str = "",
    ) -> Silence:
        """Create a silence; at least a rule or one label must be given."""

    def active(self, now: float) -> list[Silence]:
        """Silences that have not ended at ``now``, oldest start first."""

    def expire(self, silence_id: str, now: float) -> bool:
        """End a silence now; False when there is no such active silence."""

    def prune(self, before: float) -> None:
        """Forget silences that ended before ``before``."""

    def close(self) -> None:
        """Release what it holds."""


def silences_for(settings: Settings, bus: Bus | None, *, follow_group: str | None = None
                 ) -> Silences:
    """The silences of this deployment: the bus's topic on Kafka (followed when
    ``follow_group`` is given, as the alerts role does), else the state folder's
    file. ``bus`` may be None on the embedded bus."""
    if settings.bus.kind == "kafka":
        assert bus is not None, "silences on Kafka need the bus"
        return SilenceTopic(bus, settings.bus.topics.alerts_silences, follow_group=follow_group)
    return SilenceStore.in_dir(settings.state_dir)


def new_silence(
    starts: float, ends: float, rule: str | None, labels: dict[str, str] | None, comment: str
) -> Silence:
    """A silence with a fresh id; ValueError without a rule and labels."""
    if rule is None and not labels:
        raise ValueError("a silence needs a rule or at least one label")
    return Silence(uuid.uuid4().hex[:12], starts, ends, rule,
                   tuple(sorted((labels or {}).items())), comment)

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
    """Silences in SQLite (the embedded bus); every method is one short transaction."""

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
        silence = new_silence(starts, ends, rule, labels, comment)
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


class SilencesNotReady(RetryableError):
    """The silences topic has not been read once yet: a decision waits for it."""

    reason: ClassVar[str] = "silences_not_ready"


class SilenceTopic:
    """Silences on a compacted topic of the bus.

    Made with ``follow_group``, it reads the topic on a thread of its own and
    answers :meth:`active` from what it read, once it has read what the topic
    held (before that a decision waits up to :data:`READY_WAIT_S`, then
    :class:`SilencesNotReady` is raised: retryable). Without, every call reads
    the topic whole (the commands).
    """

    def __init__(self, bus: Bus, topic: str, *, follow_group: str | None = None) -> None:
        self._bus = bus
        self._topic = topic
        self._producer: Producer | None = None
        self._lock = threading.Lock()
        self._known: dict[str, Silence] = {}
        self._held = threading.Event()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._reader: TableReader | None = None
        self._thread: threading.Thread | None = None
        bus.ensure_compacted_topic(topic)
        if follow_group is not None:
            self._reader = bus.table_reader(topic, f"{follow_group}-{uuid.uuid4().hex[:8]}", self)
            self._thread = threading.Thread(target=self._follow, name="silences", daemon=True)
            self._thread.start()

    # -- AssignmentListener: the follower holds every partition of its own group
    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        self._held.set()

    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        """Nothing to forget: a follower is the only member of its group."""

    def _follow(self) -> None:
        assert self._reader is not None
        while not self._stop.is_set():
            try:
                self._apply(self._reader.poll(0.5))
                if self._held.is_set() and self._reader.caught_up():
                    self._ready.set()
            except MonitorError as exc:  # the broker away: keep what was read, try again
                log.warning("silences: reading %s failed: %s", self._topic, one_line(exc))
                self._stop.wait(1.0)

    def _apply(self, records: Sequence[Record]) -> None:
        with self._lock:
            for record in records:
                if record.key is None:
                    continue
                if record.tombstone:
                    self._known.pop(record.key, None)
                    continue
                try:
                    entry = decode(record.value, SilenceEntry)
                except DecodeError as exc:  # another version: not a silence this code knows
                    log.warning("silences: record %s skipped: %s", record.key, exc)
                    continue
                self._known[record.key] = Silence(entry.id, entry.starts, entry.ends,
                                                  entry.rule, entry.labels, entry.comment)

    def _current(self) -> dict[str, Silence]:
        if self._thread is None:
            self._apply(self._bus.read_all(self._topic, READ_TIMEOUT_S))
        elif not self._ready.wait(READY_WAIT_S):
            raise SilencesNotReady(f"silences: {self._topic} not read yet")
        with self._lock:
            return dict(self._known)

    def add(
        self,
        starts: float,
        ends: float,
        rule: str | None = None,
        labels: dict[str, str] | None = None,
        comment: str = "",
    ) -> Silence:
        silence = new_silence(starts, ends, rule, labels, comment)
        self._write(silence)
        return silence

    def active(self, now: float) -> list[Silence]:
        return sorted((s for s in self._current().values() if s.ends > now),
                      key=lambda s: (s.starts, s.id))

    def expire(self, silence_id: str, now: float) -> bool:
        silence = self._current().get(silence_id)
        if silence is None or silence.ends <= now:
            return False
        self._write(Silence(silence.id, silence.starts, now, silence.rule, silence.labels,
                            silence.comment))
        return True

    def prune(self, before: float) -> None:
        ended = [s.id for s in self._current().values() if s.ends < before]
        if not ended:
            return
        producer = self._producer_or_new()
        for silence_id in ended:
            producer.tombstone(self._topic, silence_id)
        producer.flush()
        with self._lock:
            for silence_id in ended:
                self._known.pop(silence_id, None)

    def _write(self, silence: Silence) -> None:
        entry = SilenceEntry(silence.id, silence.starts, silence.ends, silence.rule,
                             silence.labels, silence.comment)
        producer = self._producer_or_new()
        producer.send(self._topic, silence.id, encode(entry))
        producer.flush()
        with self._lock:
            self._known[silence.id] = silence

    def _producer_or_new(self) -> Producer:
        if self._producer is None:
            self._producer = self._bus.producer()
        return self._producer

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._reader is not None:
            self._reader.close()
        if self._producer is not None:
            self._producer.close()
