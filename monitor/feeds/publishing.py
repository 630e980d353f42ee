"""Publishing what polls found: new articles, and revisions of published ones.

An article is published once under its deterministic id. When feeds not yet
among its recorded sources carry it later, it is published again, same id,
listing every source: a revision. Everything is remembered in the poller's
store only after the producer's flush, so a failed or interrupted
publication is tried again, never lost (at worst an article goes out twice).

:func:`decide` is the one decision (new, revision or duplicate) for every
article a batch of polls found, as :func:`monitor.alerts.story.decide` is for
alerts; :func:`merged` and :func:`revisions` are its parts. A poll only skips
the entries its own feed carried at its last poll (the feed's memory, kept
with its validators); whether an article is new is decided here, once, on
the poller role's own thread, where :class:`ArticlePublisher` (the I/O
around the decision) is called from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from monitor.bus.base import Producer
from monitor.bus.codec import encode
from monitor.clock import Clock
from monitor.feeds.store import PollerStore
from monitor.messages import Article, Source
from monitor.ops.metrics import Metrics

#: A published article listing all its sources, with the sources it adds.
Revision = tuple[Article, tuple[Source, ...]]


def merged(articles: Iterable[Article]) -> list[Article]:
    """One copy per article id, in the order first found: the first copy, listing
    the sources of every copy in the order found (one article found by several
    feeds in one batch)."""
    by_id: dict[str, Article] = {}
    for article in articles:
        first = by_id.get(article.id)
        if first is None:
            by_id[article.id] = article
        else:
            sources = (*first.sources, *article.sources)
            by_id[article.id] = dataclasses.replace(first, sources=sources)
    return list(by_id.values())


def revisions(
    candidates: Iterable[Article], recorded: Mapping[str, tuple[Source, ...]]
) -> list[Revision]:
    """What to publish again for published articles that feeds not yet among
    their ``recorded`` sources carry: per article id, the first candidate's copy
    listing the recorded sources and then the new ones, with the new ones.

    A candidate whose id has no recorded sources (not published after all)
    gives nothing, and so does a source of a feed already recorded: idempotent
    across restarts.
    """
    copies: dict[str, Article] = {}
    added: dict[str, dict[str, Source]] = {}
    for article in candidates:
        known = recorded.get(article.id)
        if known is None:  # not published after all: nothing to add to
            continue
        feeds = {s.feed_id for s in known}
        for source in article.sources:
            if source.feed_id not in feeds:
                copies.setdefault(article.id, article)
                added.setdefault(article.id, {}).setdefault(source.feed_id, source)
    result = []
    for article_id, new in added.items():
        extra = tuple(new.values())
        copy = dataclasses.replace(copies[article_id], sources=recorded[article_id] + extra)
        result.append((copy, extra))
    return result


@dataclass(frozen=True, slots=True)
class Publication:
    """What one batch of polls publishes: the decision for each article it found."""

    #: Articles not published before: one copy per id listing every source found.
    new: tuple[Article, ...] = ()
    #: Published articles that feeds not yet among their sources carry: the
    #: copy to publish again (recorded sources, then the new ones) and the new ones.
    revisions: tuple[Revision, ...] = ()
    #: Published articles found again (ids, once each), revised or not.
    known: tuple[str, ...] = ()

    @property
    def outgoing(self) -> list[Article]:
        """Every record to publish: the new articles, then the revisions."""
        return [*self.new, *(article for article, _ in self.revisions)]


def decide(
    candidates: Iterable[Article], recorded: Mapping[str, tuple[Source, ...]]
) -> Publication:
    """New, revision or duplicate, for every article a batch of polls found.

    ``recorded`` holds the sources recorded for each published article among
    the candidates' ids (absent: never published). A new article is published
    once, listing the sources of all its copies in the order found
    (:func:`merged`); a published one is published again only for sources not
    yet recorded (:func:`revisions`); the rest are duplicates.
    """
    candidates = list(candidates)
    known = [a for a in candidates if a.id in recorded]
    return Publication(
        new=tuple(merged(a for a in candidates if a.id not in recorded)),
        revisions=tuple(revisions(known, recorded)),
        known=tuple(dict.fromkeys(a.id for a in known)),
    )


class ArticlePublisher:
    """Publishes articles to the articles topic and remembers them in the store.

    The producer is made (by ``new_producer``) when there is first something
    to publish, and closed by :meth:`close`.
    """

    def __init__(
        self,
        store: PollerStore,
        new_producer: Callable[[], Producer],
        topic: str,
        metrics: Metrics,
        clock: Clock,
    ) -> None:
        self._store = store
        self._new_producer = new_producer
        self._topic = topic
        self._metrics = metrics
        self._clock = clock
        self._producer: Producer | None = None

    def publish(self, candidates: Iterable[Article]) -> int:
        """Publish what :func:`decide` finds new or revised among ``candidates`` (the
        articles a batch of polls found); remember it. Returns the records published.

        Sources are recorded only after the flush, so a failed or interrupted
        publication is tried again, never lost.
        """
        candidates = list(candidates)
        if not candidates:
            return 0
        recorded = self._store.known_sources(list(dict.fromkeys(a.id for a in candidates)))
        decision = decide(candidates, recorded)
        outgoing = decision.outgoing
        if outgoing:
            producer = self._producer_or_new()
            for article in outgoing:
                producer.send(self._topic, article.id, encode(article))
            producer.flush()
            if decision.new:
                self._store.record_published(decision.new, self._clock.now())
            for article, added in decision.revisions:
                for source in added:
                    self._store.add_source(article.id, source)
            self._metrics.articles.inc(len(outgoing))
        self._metrics.items.labels(result="new").inc(len(decision.new))
        self._metrics.items.labels(result="duplicate").inc(len(decision.known))
        return len(outgoing)

    def _producer_or_new(self) -> Producer:
        if self._producer is None:
            self._producer = self._new_producer()
        return self._producer

    def close(self) -> None:
        """Close the producer, if one was made."""
        if self._producer is not None:
            self._producer.close()
