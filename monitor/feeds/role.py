"""The poller role: polls the configured feeds and publishes new articles.

Two stages (:func:`poller_roles`). The polling stage (:class:`PollerRole`):
workers (a thread pool) fetch and parse; handing what a poll found to the
``articles_found`` topic, flushing it and saving the feed's state happen on
the role's own thread, in that order, through one path for ``run`` and
``run_once`` (:meth:`PollerRole._publish`), so a crash can at worst hand an
article over twice, never lose one. The publisher stage
(:class:`~monitor.feeds.publisher.PublishRole`) decides whether each article
is new, a revision or a duplicate, on state kept on Kafka, and publishes it.
What polls and health changes tell the metrics and logs is
:mod:`monitor.feeds.reporting`'s part.

Which feeds this poller polls comes from a feed board
(:mod:`monitor.feeds.sharing`): the local board hands it every configured
feed; the shared board hands it its share of a list several pollers split
through a consumer group on the bus, with each feed's state travelling on
the feeds topic.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import threading
from collections.abc import Collection, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import TYPE_CHECKING

from monitor.errors import ConfigError, ConfigProblem, MonitorError
from monitor.feeds.fetcher import Fetcher, HttpxFetcher
from monitor.feeds.parsepool import PoolSettings, configure_shared_pool
from monitor.feeds.poller import FeedPoller, PollResult
from monitor.feeds.publisher import PublishRole
from monitor.feeds.publishing import FoundArticles
from monitor.feeds.reporting import report_health_change, report_health_counts, report_poll
from monitor.feeds.settings import FeedConfig
from monitor.feeds.sharing import FeedBoard, LocalFeedBoard, SharedFeedBoard
from monitor.feeds.sites import load_site_rules
from monitor.feeds.state import HEALTHS, FeedState, Health, new_state
from monitor.feeds.store import PollerStore
from monitor.roles import Role, RoleContext

if TYPE_CHECKING:
    from monitor.config import Settings

log = logging.getLogger("monitor.feeds")

#: Longest the scheduler sleeps before looking at its queue again.
_TICK_S = 0.5
#: When the bus refused a feed's articles, poll that feed again after this long.
_REPUBLISH_DELAY_S = 30.0
#: How long each scheduler tick waits for news from the shared feed board.
_BOARD_POLL_S = 0.05
#: How long ``run_once`` waits for the group to hand this poller its feeds.
_JOIN_TIMEOUT_S = 30.0


def poller_roles(ctx: RoleContext) -> list[Role]:
    """The stages started for ``--roles poller``: polling, then the publication
    decision (so ``monitor run --once`` drains the publisher after the polls)."""
    return [PollerRole(ctx), PublishRole(ctx)]


class PollerRole:
    """Implements :class:`monitor.roles.Role` for feed polling."""

    name = "poller"

    def __init__(self, ctx: RoleContext, fetcher: Fetcher | None = None) -> None:
        self._settings = ctx.settings.poller
        configure_shared_pool(PoolSettings.from_poller(self._settings))
        self._bus = ctx.bus
        self._metrics = ctx.metrics
        self._clock = ctx.clock
        self._store = PollerStore.in_state_dir(ctx.settings.state_dir)
        self._publisher = FoundArticles(ctx.bus.producer, ctx.settings.bus.topics.articles_found)
        self._fetcher = fetcher or HttpxFetcher(self._settings)
        self._poller = FeedPoller(
            self._settings,
            self._fetcher,
            load_site_rules(ctx.settings.config_dir / self._settings.sites_file),
            self._clock,
            random.Random(),
            ctx.metrics,
        )
        self._lock = threading.Lock()
        self._feeds: dict[str, FeedConfig] = {}
        self._states: dict[str, FeedState] = self._store.load_states()
        self._health: dict[str, Health] = {}
        #: Bumped whenever the feed list changes, so the loop rebuilds its queue.
        self._generation = 0
        self._counts: dict[Health, int] = {h: 0 for h in HEALTHS}
        self._board = self._feed_board(ctx.settings)
        self._board.sync(ctx.settings.feeds)
        self._refresh_board(0.0)

    # -- Role protocol ---------------------------------------------------------
    def run_once(self) -> int:
        """Poll every configured feed once, regardless of schedule; hand what the
        polls found to the publisher stage (one copy per article, listing every
        feed of this round that carries it).

        Returns the number of copies handed over; the publisher stage's
        ``run_once``, run after this one, publishes them.

        When pollers share the feed list, "every feed" means every feed this
        member owns once the group has assigned it partitions.
        """
        self._refresh_board(_JOIN_TIMEOUT_S)
        with self._lock:
            work = [(feed, self._states[feed.id]) for feed in self._feeds.values()]
        with ThreadPoolExecutor(self._settings.concurrency, "poller") as pool:
            results = list(pool.map(lambda fs: self._poller.poll(*fs), work))
        return self._publish(results)

    def run(self, stop: threading.Event) -> None:
        """Poll feeds as they come due until ``stop`` is set."""
        queue: list[tuple[float, str]] = []
        in_flight: dict[Future[PollResult], str] = {}
        generation = -1
        with ThreadPoolExecutor(self._settings.concurrency, "poller") as pool:
            while not stop.is_set():
                self._refresh_board(_BOARD_POLL_S)
                if generation != self._generation:
                    generation = self._generation
                    queue = self._fresh_queue(set(in_flight.values()))
                self._dispatch(queue, in_flight, pool)
                self._collect(in_flight, stop, queue)
            for future in list(in_flight):
                result = future.result()
                try:
                    self._publish([result])
                except MonitorError as exc:
                    log.error("feed %s: articles not published at shutdown: %s",
                              result.feed_id, exc, extra={"feed_id": result.feed_id})

    def reload(self, settings: Settings) -> None:
        """Adopt a changed feed list (added, removed or moved feeds) without restart.

        The list goes to the feed board; the polling loop (or the next
        ``run_once``) adopts this poller's share from there. With a shared
        list, that is the feeds topic, which every poller reads.
        """
        self._board.sync(settings.feeds)

    def close(self) -> None:
        self._board.close()
        self._publisher.close()
        self._fetcher.close()
        self._store.close()

    # -- feed list ---------------------------------------------------------------
    def _feed_board(self, settings: Settings) -> FeedBoard:
        if settings.poller.sharing != "kafka":
            return LocalFeedBoard()
        if settings.bus.kind != "kafka":
            raise ConfigError([ConfigProblem(
                "monitor.yaml", "poller.sharing", "sharing 'kafka' needs bus.kind 'kafka'"
            )])
        return SharedFeedBoard(self._bus, settings.bus.topics.feeds, settings.bus.groups.poller)

    def _refresh_board(self, timeout_s: float) -> None:
        owned = self._board.refresh(timeout_s)
        if owned is None:
            return
        carried = {fid: state for fid, (_, state) in owned.items() if state is not None}
        self._adopt([feed for feed, _ in owned.values()], carried)
        if self._settings.sharing == "kafka":
            shown = ", ".join(sorted(owned)[:20]) + (" …" if len(owned) > 20 else "")
            log.info("feeds: this poller now owns %d feeds: %s", len(owned), shown)

    def _adopt(
        self, feeds: Iterable[FeedConfig], carried: dict[str, FeedState] | None = None
    ) -> None:
        """Make ``feeds`` the polled set, each with the state :func:`adopted_state`
        picks from memory and ``carried`` (state that moved with a shared feed)."""
        now = self._clock.now()
        carried = carried or {}
        with self._lock:
            before, self._feeds = self._feeds, {feed.id: feed for feed in feeds}
            for feed in self._feeds.values():
                state = adopted_state(feed, self._states.get(feed.id), carried.get(feed.id), now)
                changed = before.get(feed.id) != feed  # new to this role, or edited
                self._states[feed.id] = retried_now(state, now) if changed else state
            gone = [fid for fid in self._states if fid not in self._feeds]
            for fid in gone:
                del self._states[fid]
            self._health = {
                fid: state.health(self._settings.broken_after_failures)
                for fid, state in self._states.items()
            }
            self._generation += 1
        self._store.forget_feeds(gone)
        self._report_health()

    # -- scheduling loop -----------------------------------------------------------
    def _fresh_queue(self, busy: set[str]) -> list[tuple[float, str]]:
        """A due-time heap of every feed not being polled right now."""
        with self._lock:
            queue = [(s.next_poll_at, fid) for fid, s in self._states.items() if fid not in busy]
        heapq.heapify(queue)
        return queue

    def _dispatch(
        self,
        queue: list[tuple[float, str]],
        in_flight: dict[Future[PollResult], str],
        pool: ThreadPoolExecutor,
    ) -> None:
        now = self._clock.now()
        while queue and queue[0][0] <= now and len(in_flight) < self._settings.concurrency:
            _, fid = heapq.heappop(queue)
            with self._lock:
                feed, state = self._feeds.get(fid), self._states.get(fid)
            if feed is None or state is None:
                continue
            in_flight[pool.submit(self._poller.poll, feed, state)] = fid

    def _collect(
        self,
        in_flight: dict[Future[PollResult], str],
        stop: threading.Event,
        queue: list[tuple[float, str]],
    ) -> None:
        until_due = queue[0][0] - self._clock.now() if queue else _TICK_S
        timeout = min(max(until_due, 0.0), _TICK_S)
        if not in_flight:
            stop.wait(timeout)
            return
        done, _ = wait(list(in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            del in_flight[future]
            result = future.result()
            try:
                self._publish([result])
                # The state in force, not the result's: a result for an old
                # address was dropped and the fresh state is due now.
                due = self._due(result.feed_id, result.state.next_poll_at)
            except MonitorError as exc:
                # The bus refused the articles: keep the old state so the
                # items count as new again, and try the feed again soon.
                self._metrics.errors.labels(stage="poller", kind=exc.kind, reason=exc.reason).inc()
                log.error("feed %s: articles not published, retrying in %.0fs: %s",
                          result.feed_id, _REPUBLISH_DELAY_S, exc,
                          extra={"feed_id": result.feed_id})
                due = self._clock.now() + _REPUBLISH_DELAY_S
            if result.feed_id in self._feeds:
                heapq.heappush(queue, (due, result.feed_id))

    # -- publication -----------------------------------------------------------------
    def _publish(self, results: list[PollResult]) -> int:
        """Hand what ``results`` found to the publisher stage, then record the polls:
        the one path for ``run`` (one result at a time) and ``run_once`` (every
        feed's at once, so an article several feeds carry is one copy listing them
        all). Polls of feeds removed or moved meanwhile are dropped. Returns the
        number of copies handed over."""
        results = [r for r in results if self._current(r)]
        published = self._publisher.publish(a for result in results for a in result.articles)
        for result in results:
            self._record(result)
        return published

    def _current(self, result: PollResult) -> bool:
        """Whether ``result`` polled the feed as configured now.

        A poll that was in flight while the feed list changed polled an
        address no longer configured (or a removed feed). Its articles and
        state are dropped: the moved feed starts fresh at its new address,
        where the same items, if any, are found again.
        """
        with self._lock:
            feed = self._feeds.get(result.feed_id)
        if feed is not None and is_current(result.state, feed):
            return True
        log.info("feed %s: dropped a poll of %s, no longer configured", result.feed_id,
                 result.state.config_url, extra={"feed_id": result.feed_id})
        return False

    def _due(self, feed_id: str, default: float) -> float:
        with self._lock:
            state = self._states.get(feed_id)
        return state.next_poll_at if state is not None else default

    def _record(self, result: PollResult) -> None:
        """Account for one poll: metrics and logs (:func:`report_poll`), then state
        and health."""
        report_poll(self._metrics, result)
        self._save(result.state)

    def _save(self, state: FeedState) -> None:
        health = state.health(self._settings.broken_after_failures)
        with self._lock:
            feed = self._feeds.get(state.feed_id)
            if feed is None or not is_current(state, feed):
                return  # removed or moved while it was polled: keep the new definition's
            self._states[state.feed_id] = state
            before = self._health.get(state.feed_id)
            self._health[state.feed_id] = health
            if health != before:
                if before is not None:
                    self._counts[before] -= 1
                self._counts[health] += 1
            counts = dict(self._counts)
        self._store.save_state(state, health)
        self._board.save(feed, state)
        if health != before:
            report_health_change(self._metrics, state, before, health, counts)

    def _report_health(self) -> None:
        with self._lock:
            self._counts = {h: 0 for h in HEALTHS}
            for health in self._health.values():
                self._counts[health] += 1
            counts = dict(self._counts)
        report_health_counts(self._metrics, counts)

    def poll_now(self, feed_ids: Collection[str] | None) -> tuple[list[str], list[str]]:
        """Make ``feed_ids`` (None: every feed this poller polls) due at once.

        Returns (the ids made due, the ids this poller does not poll). The
        polling loop picks them up within a tick; their failure counts are
        kept, so a feed that fails again backs off from where it was.
        """
        now = self._clock.now()
        with self._lock:
            wanted = list(self._feeds) if feed_ids is None else list(dict.fromkeys(feed_ids))
            due = [fid for fid in wanted if fid in self._states]
            for fid in due:
                self._states[fid] = replace(self._states[fid], next_poll_at=now)
            self._generation += 1  # the loop rebuilds its queue from the states
        return due, [fid for fid in wanted if fid not in self._states]

    @property
    def feed_states(self) -> dict[str, FeedState]:
        """A snapshot of every feed's state (for tests and status pages)."""
        with self._lock:
            return dict(self._states)


def is_current(state: FeedState, feed: FeedConfig) -> bool:
    """Whether ``state`` belongs to ``feed``'s present definition (same configured URL)."""
    return state.feed_id == feed.id and state.config_url == str(feed.url)


def retried_now(state: FeedState, now: float) -> FeedState:
    """``state`` due at once if it is waiting out a failure backoff.

    Applied when a feed joins a poller role (a start, a restart, a rebuild on
    reload) or its entry in the feed list changes: the operator may have fixed
    what made it fail, so it is tried now instead of after the backoff its
    errors earned. The failure count is kept: a feed that fails again goes on
    backing off from where it was.
    """
    if state.failures == 0 or state.next_poll_at <= now:
        return state
    return replace(state, next_poll_at=now)


def adopted_state(
    feed: FeedConfig, local: FeedState | None, carried: FeedState | None, now: float
) -> FeedState:
    """The state ``feed`` is polled from when it joins (or stays in) the polled set.

    Only states of the feed's configured URL count. The state carried on the
    shared feeds topic wins over this poller's own (memory, or its SQLite
    store after a restart) when it was polled at least as recently: then
    another poller polled the feed since, and its validators, schedule and
    recent ids are the ones to keep. Without either, the feed starts fresh,
    due now.
    """
    usable = [s for s in (carried, local) if s is not None and is_current(s, feed)]
    if not usable:
        return new_state(feed.id, str(feed.url), now)
    # max() keeps the first of equals: the carried state on a tie.
    return max(usable, key=lambda s: -math.inf if s.last_poll_at is None else s.last_poll_at)
