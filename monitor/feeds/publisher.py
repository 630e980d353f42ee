"""The publisher stage of the poller role: found copies in, articles out.

Polls hand every article they find to the internal ``articles_found`` topic,
keyed by article id (:class:`monitor.feeds.publishing.FoundArticles`). This
stage reads it in its own consumer group, shared by every poller process, and
takes the publication decision (:func:`monitor.feeds.publishing.decide`) for
each copy against the articles already published from that copy's partition:
new (published), a revision (a feed not yet among the recorded sources: the
article again, same id, listing the recorded sources then the new ones) or a
duplicate (nothing).

The published articles are state changelogged per partition, Kafka-Streams
style (:mod:`monitor.bus.changelog`, :mod:`monitor.feeds.seen`): in memory,
journalled to the compacted ``articles_seen`` topic, and rebuilt from it when
a partition is assigned, so a poller on another machine, or a replacement
with an empty state folder, decides as the previous owner would have.

Order of writes, which makes the guarantees (at-least-once, never lost):

1. the decisions' articles are sent while each copy is handled;
2. the worker flushes them; only then (``settle``) are the changelog entries
   of the settled copies written, and flushed;
3. the input is committed.

A crash before 2 reads the copies again and decides them again; between 2
and 3, they are duplicates of what the changelog holds. A changelog entry is
never ahead of its article; at worst an article goes out twice. Entries whose
article was first published more than ``poller.seen_retention_days`` ago are
removed (tombstones) about once an hour.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from monitor.bus.base import Record
from monitor.bus.changelog import PartitionStates
from monitor.bus.worker import Outgoing, StageWorker
from monitor.config import Settings
from monitor.feeds.publishing import Publication, decide
from monitor.feeds.seen import Change, SeenState
from monitor.messages import Article
from monitor.roles import RoleContext

#: How often entries past the retention are looked for.
PRUNE_INTERVAL_S = 3600.0
_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class _Decided:
    """A copy's decision, its state changes waiting for the flush of its articles."""

    record: Record
    state: SeenState
    publication: Publication
    changes: tuple[Change, ...]


def _where(record: Record) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


class PublishRole:
    """Implements :class:`monitor.roles.Role` for the publication decision."""

    name = "publisher"

    def __init__(self, ctx: RoleContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        topics = settings.bus.topics
        self._topic = topics.articles
        self._retention_s = settings.poller.seen_retention_days * _DAY_S
        self._last_prune = ctx.clock.now()
        #: Decisions of the batch in hand, journalled once their articles are flushed.
        self._decided: list[_Decided] = []
        ctx.bus.ensure_compacted_topic(topics.articles_seen)
        self._producer = ctx.bus.producer()
        self._states: PartitionStates[SeenState] = PartitionStates(
            stage=self.name, bus=ctx.bus, producer=self._producer,
            changelog=topics.articles_seen, make=SeenState, metrics=ctx.metrics,
        )
        self._worker: StageWorker[Article] = StageWorker(
            stage=self.name,
            consumer=ctx.bus.consumer([topics.articles_found], settings.bus.groups.publisher,
                                      self._states),
            producer=self._producer,
            kind=Article,
            handle=self.handle,
            deadletter_topic=topics.deadletter,
            metrics=ctx.metrics,
            clock=ctx.clock,
            stall_after_s=settings.bus.stage_stall_after_s,
            settle=self._settle,
            rewound=self._rewound,
            revocations=lambda: self._states.revocations,
        )

    def handle(self, found: Article) -> Iterator[Outgoing]:
        """The articles one found copy gives: itself if new, a revision listing the
        recorded sources then its new ones, or nothing. The decision is kept in
        memory at once (later copies in the batch see it) and journalled by
        :meth:`_settle`."""
        record = self._worker.record
        assert record is not None  # the worker sets it before calling a handler
        state = self._states.state(record.partition)
        now = self._ctx.clock.now()
        publication = decide([found], state.recorded([found.id]))
        outgoing = publication.outgoing
        changes = tuple(state.record(a.id, a.url, a.sources, now) for a in outgoing)
        self._decided.append(_Decided(record, state, publication, changes))
        for article in outgoing:
            yield Outgoing(self._topic, article.id, article)

    def _settle(self, settled: Sequence[Record]) -> None:
        """The settled copies' articles are flushed: journal their decisions (the
        worker flushes the journal before committing), count them, and prune."""
        done = {_where(record) for record in settled}
        decided, self._decided = self._decided, []
        for item in decided:
            if _where(item.record) in done:
                item.state.write(item.changes)
                self._count(item.publication)
        self._maybe_prune(self._ctx.clock.now())

    def _rewound(self) -> None:
        """Copies were rewound: memory may hold decisions for copies that will be
        read again, so the states are rebuilt from the changelog."""
        self._decided = []
        self._states.invalidate()

    def _count(self, publication: Publication) -> None:
        metrics = self._ctx.metrics
        published = len(publication.outgoing)
        if published:
            metrics.articles.inc(published)
        metrics.items.labels(result="new").inc(len(publication.new))
        metrics.items.labels(result="duplicate").inc(len(publication.known))

    def _maybe_prune(self, now: float) -> None:
        if now - self._last_prune < PRUNE_INTERVAL_S:
            return
        self._last_prune = now
        for state in self._states.held().values():
            state.write(state.prune(now - self._retention_s))
        self._states.report()

    # -- Role protocol -------------------------------------------------------------
    def run_once(self) -> int:
        """Decide every found copy waiting; returns how many were settled."""
        return self._worker.drain()

    def run(self, stop: threading.Event) -> None:
        self._worker.run(stop)

    def reload(self, settings: Settings) -> None:
        self._retention_s = settings.poller.seen_retention_days * _DAY_S

    def close(self) -> None:
        self._worker.close()
        self._producer.close()
