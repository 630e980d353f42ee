"""The poller role's two stages driven together, as ``monitor run`` drives them."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable

from monitor.bus import open_bus
from monitor.bus.base import Bus, Record
from monitor.clock import Clock, SystemClock
from monitor.config import Settings
from monitor.feeds.fetcher import Fetcher
from monitor.feeds.publisher import PublishRole
from monitor.feeds.role import PollerRole
from monitor.feeds.seen import SeenState
from monitor.feeds.state import FeedState
from monitor.messages import SeenEntry
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext


class Poller:
    """Polling then the publication decision: what the poller role publishes to the
    articles topic. ``run_once`` returns the records it published there."""

    def __init__(
        self,
        settings: Settings,
        bus: Bus,
        *,
        metrics: Metrics | None = None,
        clock: Clock | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        ctx = RoleContext(settings, bus, self.metrics, clock or SystemClock())
        self.polling = PollerRole(ctx, fetcher)
        self.publishing = PublishRole(ctx)

    def published_so_far(self) -> int:
        """Records this poller's publisher stage has published."""
        return int(self.metrics.articles._value.get())

    def run_once(self) -> int:
        before = self.published_so_far()
        self.polling.run_once()
        self.publishing.run_once()
        return self.published_so_far() - before

    def run(self, stop: threading.Event) -> None:
        """Both stages until ``stop`` is set, the publisher on a thread of its own."""
        publishing = threading.Thread(target=self.publishing.run, args=(stop,), daemon=True)
        publishing.start()
        try:
            self.polling.run(stop)
        finally:
            publishing.join(timeout=10)

    def reload(self, settings: Settings) -> None:
        self.polling.reload(settings)
        self.publishing.reload(settings)

    def poll_now(self, feed_ids: Collection[str] | None) -> tuple[list[str], list[str]]:
        return self.polling.poll_now(feed_ids)

    @property
    def feed_states(self) -> dict[str, FeedState]:
        return self.polling.feed_states

    def close(self) -> None:
        self.polling.close()
        self.publishing.close()


def recorded_articles(settings: Settings, bus: Bus | None = None) -> dict[str, SeenEntry]:
    """The articles the publisher stage recorded as published (never published as
    new again), by id, read from the seen changelog on ``bus``, else on the
    configured bus (the embedded bus's copy in the state folder)."""
    topic = settings.bus.topics.articles_seen
    if bus is not None:
        return _restored(bus.read_all(topic, 60.0))
    opened = open_bus(settings.bus, settings.state_dir)
    try:
        opened.ensure_compacted_topic(topic)
        return _restored(opened.read_all(topic, 60.0))
    finally:
        opened.close()


def _restored(records: Iterable[Record]) -> dict[str, SeenEntry]:
    state = SeenState()
    state.restore(records)
    return dict(state.entries())
