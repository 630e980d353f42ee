"""The local statement history: tagged articles as the NLP stage published them, bounded.

``<state_dir>/statements.sqlite3`` keeps what the statements topic carried,
so that ``monitor rules backtest`` has something to read on an embedded
install, where the bus keeps nothing between processes. Each row is one
:class:`~monitor.messages.TaggedArticle` without its document text and
boilerplate (rules read statements and the article reference only), with the
time it was recorded.

Contracts:

* an article with no statement is not recorded (no rule can fire on it);
* the same record recorded twice (the stage reads an article again after a
  crash before its commit) is stored once; a revision of an article (other
  sources, other statements) is a row of its own, as it is on the topic;
* retention (:class:`~monitor.nlp.settings.HistorySettings`): rows recorded
  before ``now - retention_days`` and all but the newest ``max_articles`` rows
  are deleted when :func:`prune_due` says so (and by :meth:`StatementHistory.prune`);
* :class:`HistoryRecorder`, what the stage calls, keeps a batch's articles and
  writes them in one transaction when the batch settles (one commit per
  article held the NLP stage's thread in SQLite for a quarter of its time), and
  never lets a store failure stop tagging: the history is an aid, the
  statements topic is the product.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.bus.codec import decode, encode
from monitor.clock import Clock
from monitor.db import Database, StoreCorrupt, StoreError
from monitor.messages import TaggedArticle
from monitor.nlp.settings import HistorySettings

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    statements INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_recorded ON statements (recorded_at);
"""

#: Prune after this many new rows ...
PRUNE_EVERY_ROWS = 200
#: ... or when this long has passed since the last prune (seconds).
PRUNE_EVERY_S = 600.0
#: Rows read per query when the history is read back.
READ_BATCH = 500


@dataclass(frozen=True, slots=True)
class Span:
    """What a history holds: how many articles and statements, recorded when."""

    articles: int
    statements: int
    first: float | None
    last: float | None


def slim(tagged: TaggedArticle) -> TaggedArticle:
    """``tagged`` as the history keeps it: no document text, no boilerplate spans."""
    return dataclasses.replace(tagged, document="", boilerplate=())


def cutoff(now: float, settings: HistorySettings) -> float:
    """Rows recorded before this time are past their retention."""
    return now - settings.retention_days * 86400.0


def prune_due(rows_since: int, last_prune: float | None, now: float) -> bool:
    """Whether to prune now, given rows recorded and time passed since the last prune."""
    if last_prune is None:
        return True
    return rows_since >= PRUNE_EVERY_ROWS or now - last_prune >= PRUNE_EVERY_S


class StatementHistory:
    """Read and write ``statements.sqlite3`` (see module docstring)."""

    FILENAME = "statements.sqlite3"

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._db = Database(path, "" if readonly else _SCHEMA, readonly=readonly)

    @classmethod
    def path_in(cls, state_dir: Path) -> Path:
        return state_dir / cls.FILENAME

    @classmethod
    def in_dir(cls, state_dir: Path, *, readonly: bool = False) -> StatementHistory:
        return cls(cls.path_in(state_dir), readonly=readonly)

    def record(self, tagged: TaggedArticle, now: float) -> bool:
        """Store ``tagged`` (slimmed); False when it has no statement or is stored already."""
        return self.record_many([(tagged, now)]) == 1

    def record_many(self, recorded: Sequence[tuple[TaggedArticle, float]]) -> int:
        """Store each (article, time recorded) as :meth:`record` does, in one
        transaction; returns how many rows were new."""
        rows = [_row(tagged, now) for tagged, now in recorded if tagged.statements]
        if not rows:
            return 0
        added = 0
        with self._db.transaction() as conn:
            for row in rows:
                added += conn.execute(
                    "INSERT OR IGNORE INTO statements (digest, article_id, recorded_at,"
                    " statements, payload) VALUES (?, ?, ?, ?, ?)",
                    row,
                ).rowcount
        return added

    def prune(self, before: float, max_articles: int) -> int:
        """Delete rows recorded before ``before`` and all but the newest
        ``max_articles``; returns how many went."""
        with self._db.transaction() as conn:
            old = conn.execute("DELETE FROM statements WHERE recorded_at < ?", (before,)).rowcount
            over = conn.execute(
                "DELETE FROM statements WHERE seq <= (SELECT seq FROM statements"
                " ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (max_articles,),
            ).rowcount
        return int(old) + int(over)

    def span(self) -> Span:
        """How much the history holds."""
        [(articles, statements, first, last)] = self._db.query(
            "SELECT count(*), coalesce(sum(statements), 0), min(recorded_at), max(recorded_at)"
            " FROM statements"
        )
        return Span(int(articles), int(statements), first, last)

    def read(self, batch: int = READ_BATCH) -> Iterator[tuple[float, bytes]]:
        """Every row as (recorded_at, encoded TaggedArticle), oldest first, read in
        batches so a long history is never held in memory at once."""
        after = 0
        while True:
            rows = self._db.query(
                "SELECT seq, recorded_at, payload FROM statements WHERE seq > ?"
                " ORDER BY seq LIMIT ?",
                (after, batch),
            )
            for seq, recorded_at, payload in rows:
                after = seq
                yield float(recorded_at), bytes(payload)
            if len(rows) < batch:
                return

    def articles(self) -> Iterator[tuple[float, TaggedArticle]]:
        """Every row decoded (see :meth:`read`)."""
        for recorded_at, payload in self.read():
            yield recorded_at, decode(payload, TaggedArticle)

    def close(self) -> None:
        self._db.close()


def _row(tagged: TaggedArticle, now: float) -> tuple[str, str, float, int, bytes]:
    payload = encode(slim(tagged))
    digest = hashlib.sha256(payload).hexdigest()
    return digest, tagged.article.id, now, len(tagged.statements), payload


class HistoryRecorder:
    """The NLP stage's side of the history: keep each tagged article of a batch,
    write them when the batch settles, prune when due, and report (never raise)
    a store failure.

    The stage calls :meth:`record` per article, :meth:`flush` once the batch's
    outputs are flushed (before its commit: a crash before the flush reads the
    batch again and records it then) and :meth:`discard` when the batch is
    rewound (its articles are read, tagged and recorded again).
    """

    def __init__(self, settings: HistorySettings, state_dir: Path, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._rows_since = 0
        self._last_prune: float | None = None
        self._failing = False
        self._pending: list[tuple[TaggedArticle, float]] = []
        self._history: StatementHistory | None = None
        if settings.enabled:
            try:
                self._history = StatementHistory.in_dir(state_dir)
            except StoreCorrupt as exc:
                log.error("statement history disabled: %s", exc)

    def record(self, tagged: TaggedArticle) -> None:
        """Keep ``tagged``, recorded now, for the next :meth:`flush`."""
        if self._history is not None and tagged.statements:
            self._pending.append((tagged, self._clock.now()))

    def discard(self) -> None:
        """Forget what was kept since the last flush."""
        self._pending.clear()

    def flush(self) -> None:
        """Write what was kept (see :meth:`StatementHistory.record_many`) and prune
        when due; a store failure is logged once per failing spell and the kept
        articles are dropped (the history is an aid)."""
        if self._history is None or not self._pending:
            return
        pending, self._pending = self._pending, []
        now = self._clock.now()
        try:
            self._rows_since += self._history.record_many(pending)
            if prune_due(self._rows_since, self._last_prune, now):
                self._history.prune(cutoff(now, self._settings), self._settings.max_articles)
                self._rows_since, self._last_prune = 0, now
        except (StoreError, StoreCorrupt) as exc:
            if not self._failing:  # once per failing spell, not once per article
                log.warning("statement history not written (tagging goes on): %s", exc)
            self._failing = True
            return
        self._failing = False

    def adopt(self, settings: HistorySettings) -> None:
        """New retention (SIGHUP): used from the next prune, which is due at once.
        Turning recording on or off takes a restart."""
        self._settings = settings.model_copy(update={"enabled": self._settings.enabled})
        self._last_prune = None

    def close(self) -> None:
        """Write what is kept, then close the store."""
        self.flush()
        if self._history is not None:
            self._history.close()
