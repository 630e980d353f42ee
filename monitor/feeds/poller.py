"""Polling one feed: fetch, parse, find new entries, build articles.

:class:`FeedPoller` is the I/O shell around the pure pieces (schedule, ids,
parsing). It does not publish: it returns a :class:`PollResult` with an
article for every entry its feed did not carry at its last poll, and the role
decides which are new, revisions or duplicates
(:func:`monitor.feeds.publishing.decide`), publishes, records and saves state
from a single thread, so the decision happens in one place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import Clock, iso_utc
from monitor.errors import MonitorError
from monitor.feeds.errors import UnexpectedFeedError
from monitor.feeds.fetcher import PAGE_ACCEPT, Fetcher, FetchRequest, FetchResult
from monitor.feeds.fulltext import extract_page_text, html_to_text
from monitor.feeds.model import FeedEntry, ParsedFeed
from monitor.feeds.parsing import parse_feed
from monitor.feeds.schedule import after_failure, after_success, schedule_lag
from monitor.feeds.settings import FeedConfig, PollerSettings
from monitor.feeds.sites import SiteRules
from monitor.feeds.state import FeedState
from monitor.feeds.urls import article_id_from, is_web_url
from monitor.messages import Article, Source, without_headline
from monitor.ops.metrics import Metrics
from monitor.text import first_line

log = logging.getLogger("monitor.feeds")


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll found; nothing is published or saved yet."""

    feed_id: str
    state: FeedState
    #: "changed", "not_modified", "unchanged" or "error".
    outcome: str
    #: An article for each entry the feed did not carry at its last poll, with this
    #: feed as its source: new, a revision or a duplicate, as the role decides.
    articles: tuple[Article, ...] = ()
    #: Entries the feed carried at its last poll too (ids and sources): skipped.
    duplicates: tuple[tuple[str, Source], ...] = ()
    error: MonitorError | None = None
    lag_s: float = 0.0
    fetch_s: float | None = None
    parse_warning: str | None = None


class FeedPoller:
    """Polls feeds; safe to call from several threads at once.

    Per-host politeness is the fetcher's job (:class:`HttpxFetcher` holds a
    host's slot for each redirect hop, feed and article page alike).
    """

    def __init__(
        self,
        settings: PollerSettings,
        fetcher: Fetcher,
        rules: SiteRules,
        clock: Clock,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._rules = rules
        self._clock = clock
        self._rng = rng or random.Random()
        self._metrics = metrics

    def poll(self, feed: FeedConfig, state: FeedState) -> PollResult:
        """Poll ``feed`` once; never raises for feed problems."""
        started = self._clock.now()
        lag = schedule_lag(state, started)
        try:
            return self._poll(feed, state, started, lag)
        except MonitorError as exc:
            error: MonitorError = exc
        except Exception as exc:  # a library bug must not stop the other feeds
            log.debug("feed %s: unexpected failure", feed.id, exc_info=True,
                      extra={"feed_id": feed.id})
            error = unexpected(exc)
        failed = after_failure(state, self._clock.now(), error, self._settings, self._rng)
        return PollResult(feed.id, failed, "error", error=error, lag_s=lag)

    def _poll(self, feed: FeedConfig, state: FeedState, started: float, lag: float) -> PollResult:
        request = FetchRequest(state.url, etag=state.etag, last_modified=state.last_modified)
        fetched = self._fetcher.fetch(request)
        moved = dataclasses.replace(state, url=fetched.permanent_url or state.url)
        if fetched.not_modified:
            done = self._succeeded(feed, moved, fetched, (), None)
            return PollResult(feed.id, done, "not_modified", lag_s=lag, fetch_s=fetched.elapsed_s)
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        if body_hash == state.content_hash:
            done = self._succeeded(feed, _validators(moved, fetched, body_hash), fetched, (), None)
            return PollResult(feed.id, done, "unchanged", lag_s=lag, fetch_s=fetched.elapsed_s)
        parsed = parse_feed(fetched.body, fetched.headers)
        cap = self._settings.max_entries_per_feed
        entries = parsed.entries[:cap]
        warnings = [w for w in (parsed.warning,) if w]
        if len(parsed.entries) > cap:
            warnings.append(f"kept the first {cap} of {len(parsed.entries)} entries")
        keyed = self._keyed(feed.id, entries)
        articles, duplicates = self._candidates(feed, moved, keyed, parsed.language)
        times = [_epoch(e.published or e.updated) or started for e in entries]
        known = dataclasses.replace(_validators(moved, fetched, body_hash), recent_ids=tuple(keyed))
        done = self._succeeded(feed, known, fetched, times, parsed)
        return PollResult(
            feed.id, done, "changed", tuple(articles), tuple(duplicates),
            lag_s=lag, fetch_s=fetched.elapsed_s, parse_warning="; ".join(warnings) or None,
        )

    def _succeeded(
        self, feed: FeedConfig, state: FeedState, fetched: FetchResult,
        item_times: Sequence[float], parsed: ParsedFeed | None,
    ) -> FeedState:
        hints = [h for h in (fetched.max_age_s, parsed.ttl_s if parsed else None) if h]
        return after_success(
            state, self._clock.now(), self._settings, self._rng,
            item_times=item_times, hint_s=max(hints) if hints else None,
            fixed_s=feed.interval_s,
        )

    def _keyed(self, feed_id: str, entries: Sequence[FeedEntry]) -> dict[str, FeedEntry]:
        """Entries by article id; the first of several with one id wins."""
        keyed: dict[str, FeedEntry] = {}
        for entry in entries:
            keyed.setdefault(self.article_id(feed_id, entry), entry)
        return keyed

    def _candidates(
        self,
        feed: FeedConfig,
        state: FeedState,
        keyed: dict[str, FeedEntry],
        language: str | None,
    ) -> tuple[list[Article], list[tuple[str, Source]]]:
        """An article for each entry the feed did not carry at its last poll
        (``state.recent_ids``), and the entries it did."""
        carried = set(state.recent_ids)
        articles: list[Article] = []
        duplicates: list[tuple[str, Source]] = []
        for article_id, entry in keyed.items():
            source = Source(feed_id=feed.id, feed_url=state.url, entry_url=entry.link or "")
            if article_id in carried:
                duplicates.append((article_id, source))
            else:
                articles.append(self._article(article_id, feed, entry, source, language))
        return articles, duplicates

    def article_id(self, feed_id: str, entry: FeedEntry) -> str:
        return entry_article_id(feed_id, entry, self._settings)

    def _article(
        self,
        article_id: str,
        feed: FeedConfig,
        entry: FeedEntry,
        source: Source,
        language: str | None,
    ) -> Article:
        url = entry.link or (entry.guid if entry.guid and is_web_url(entry.guid) else "") or ""
        title = html_to_text(entry.title).replace("\n", " ")
        text, text_source = self._text(entry, url)
        return Article(
            id=article_id,
            url=url,
            title=title,
            text=without_headline(self._rules.clean(url, text), title) if text else "",
            text_source=text_source,
            feed_id=feed.id,
            sources=(source,),
            fetched_at=iso_utc(self._clock.now(), millis=True),
            published=entry.published or entry.updated,
            author=entry.author,
            language=language,
        )

    def _text(self, entry: FeedEntry, url: str) -> tuple[str, str]:
        if entry.content:
            return html_to_text(entry.content), "content"
        if self._settings.fetch_pages and is_web_url(url):
            page_text = self._page_text(url)
            if page_text:
                return page_text, "page"
        if entry.summary:
            return html_to_text(entry.summary), "summary"
        return "", "none"

    def _page_text(self, url: str) -> str:
        """The article page's main text, or "" when it cannot be had."""
        try:
            fetched = self._fetcher.fetch(FetchRequest(url, accept=PAGE_ACCEPT))
        except MonitorError as exc:
            if self._metrics is not None:
                self._metrics.errors.labels(stage="pages", kind=exc.kind, reason=exc.reason).inc()
            return ""
        if self._metrics is not None:
            self._metrics.fetch_seconds.labels(kind="page").observe(fetched.elapsed_s)
        return extract_page_text(fetched.body, fetched.url) if fetched.body else ""


def entry_article_id(feed_id: str, entry: FeedEntry, settings: PollerSettings) -> str:
    """The id the poller publishes ``entry`` under, canonicalised as ``settings`` say.

    The one place that turns an entry into an id, so ``monitor parse-feed``
    prints the ids the poller publishes.
    """
    return article_id_from(
        guid=entry.guid, link=entry.link, feed_id=feed_id, title=entry.title,
        tracking_params=settings.tracking_params, strip_www=settings.strip_www,
    )


def unexpected(exc: Exception) -> UnexpectedFeedError:
    """A one-line, classified error for an exception no boundary translated."""
    line = first_line(str(exc), 200)
    detail = f": {line}" if line else ""
    return UnexpectedFeedError(f"unexpected {type(exc).__name__}{detail}")


def _validators(state: FeedState, fetched: FetchResult, body_hash: str) -> FeedState:
    return dataclasses.replace(
        state, etag=fetched.etag, last_modified=fetched.last_modified, content_hash=body_hash
    )


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None
