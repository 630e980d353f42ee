"""Publishing what polls found: new articles, and revisions of published ones.

An article is published once under its deterministic id. When feeds not yet
among its recorded sources carry it later, it is published again, same id,
listing every source: a revision.

Two steps, so any poller can add a source to an article another poller
published: the polls hand what they found to the internal ``articles_found``
topic, keyed by article id (:class:`FoundArticles`, on the poller role's
thread, flushed before a feed's state is saved); the publisher stage
(:class:`monitor.feeds.publisher.PublishRole`) takes the decision for each
copy against the published articles of its partition, kept on Kafka, and
publishes to the articles topic. Nothing is recorded before it is flushed, so
a failed or interrupted publication is tried again, never lost (at worst an
article goes out twice).

:func:`decide` is the one decision (new, revision or duplicate), as
:func:`monitor.alerts.story.decide` is for alerts; :func:`merged` and
:func:`revisions` are its parts. A poll only skips the entries its own feed
carried at its last poll (the feed's memory, kept with its validators).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from monitor.bus.base import Producer
from monitor.bus.codec import encode
from monitor.messages import Article, Source

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


class FoundArticles:
    """Hands the articles polls found to the ``articles_found`` topic, keyed by id.

    The producer is made (by ``new_producer``) when there is first something
    to send, and closed by :meth:`close`.
    """

    def __init__(self, new_producer: Callable[[], Producer], topic: str) -> None:
        self._new_producer = new_producer
        self._topic = topic
        self._producer: Producer | None = None

    def publish(self, candidates: Iterable[Article]) -> int:
        """Send one copy per article id of ``candidates`` (the articles a batch of
        polls found), listing the sources of all its copies (:func:`merged`: in the
        polling loop a batch is one feed's poll, so one source), and flush.
        Returns the copies sent.

        Raises what the producer raises; the caller then keeps the feeds' old
        state, so the same items are found, and sent, again.
        """
        copies = merged(candidates)
        if not copies:
            return 0
        producer = self._producer_or_new()
        for article in copies:
            producer.send(self._topic, article.id, encode(article))
        producer.flush()
        return len(copies)

    def _producer_or_new(self) -> Producer:
        if self._producer is None:
            self._producer = self._new_producer()
        return self._producer

    def close(self) -> None:
        """Close the producer, if one was made."""
        if self._producer is not None:
            self._producer.close()
