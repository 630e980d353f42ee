"""What the poller remembers about one feed between polls, and its health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Health = Literal["pending", "ok", "degraded", "broken"]
HEALTHS: tuple[Health, ...] = ("pending", "ok", "degraded", "broken")


@dataclass(frozen=True, slots=True)
class FeedState:
    """Poll state of one feed; times are epoch seconds.

    ``url`` is where the feed is fetched now (a permanent redirect moves it);
    ``config_url`` is the address from the feed list, so a changed list entry
    resets the moved address.
    """

    feed_id: str
    config_url: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    next_poll_at: float = 0.0
    interval_s: float | None = None
    last_poll_at: float | None = None
    last_success_at: float | None = None
    last_error_at: float | None = None
    last_error: str | None = None
    error_reason: str | None = None
    failures: int = 0
    #: Epoch seconds of recent new items (newest last), to learn the rhythm.
    recent_item_times: tuple[float, ...] = ()
    #: The longest re-poll interval the feed asked for (ttl, max-age), if any.
    hint_s: float | None = None
    #: Article ids of the entries in the last parsed answer. They travel with
    #: the feed's state, so a poller that takes the feed over does not
    #: publish them again even without the previous poller's store.
    recent_ids: tuple[str, ...] = ()

    def health(self, broken_after: int) -> Health:
        """ok / degraded / broken from consecutive failures; pending before any poll."""
        if self.failures >= broken_after:
            return "broken"
        if self.failures > 0:
            return "degraded"
        return "ok" if self.last_success_at is not None else "pending"


def new_state(feed_id: str, url: str, now: float) -> FeedState:
    """The state of a feed never polled: due right away."""
    return FeedState(feed_id=feed_id, config_url=url, url=url, next_poll_at=now)
