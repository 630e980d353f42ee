"""Publishing what polls found: new articles, and revisions of published ones.

An article is published once under its deterministic id. When feeds not yet
among its recorded sources carry it later, it is published again, same id,
listing every source: a revision. Everything is remembered in the poller's
store only after the producer's flush, so a failed or interrupted
publication is tried again, never lost (at worst an article goes out twice).

:func:`merged` and :func:`revisions` are the pure parts;
:class:`ArticlePublisher` is the I/O around them, called from the poller
role's own thread only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

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
    candidates: Iterable[Article], recorded: dict[str, tuple[Source, ...]]
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

    def publish(self, articles: list[Article], syndicated: Iterable[Article] = ()) -> int:
        """Publish what is new; remember it. Returns the number of records published.

        New are the articles not yet published, and the sources that feeds add
        to published ones: ``syndicated`` (found so when polled) and any of
        ``articles`` that another feed's poll published meanwhile. For those,
        the article is published again, same id, listing every source (see
        :func:`revisions`). Sources are recorded only after the flush, so a
        failed or interrupted publication is tried again, never lost.
        """
        syndicated = list(syndicated)
        if not articles and not syndicated:
            return 0
        seen = self._store.seen([a.id for a in articles])
        fresh = [a for a in articles if a.id not in seen]
        again = self._revisions([a for a in articles if a.id in seen] + syndicated)
        outgoing = fresh + [article for article, _ in again]
        if outgoing:
            producer = self._producer_or_new()
            for article in outgoing:
                producer.send(self._topic, article.id, encode(article))
            producer.flush()
            if fresh:
                self._store.record_published(fresh, self._clock.now())
            for article, added in again:
                for source in added:
                    self._store.add_source(article.id, source)
            self._metrics.articles.inc(len(outgoing))
        self._metrics.items.labels(result="new").inc(len(fresh))
        self._metrics.items.labels(result="duplicate").inc(len(articles) - len(fresh))
        return len(outgoing)

    def _revisions(self, candidates: list[Article]) -> list[Revision]:
        """:func:`revisions` of ``candidates`` against the sources the store records."""
        if not candidates:
            return []
        recorded = self._store.known_sources(list(dict.fromkeys(a.id for a in candidates)))
        return revisions(candidates, recorded)

    def _producer_or_new(self) -> Producer:
        if self._producer is None:
            self._producer = self._new_producer()
        return self._producer

    def close(self) -> None:
        """Close the producer, if one was made."""
        if self._producer is not None:
            self._producer.close()
