"""What polls and feed health tell the metrics and the logs.

The poller role decides and records (state, health, counts); these
functions only report what it decided, so they keep no state of their own.
They log to ``monitor.feeds``, the role's logger.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from monitor.feeds.poller import PollResult
from monitor.feeds.state import FeedState, Health
from monitor.ops.metrics import Metrics

log = logging.getLogger("monitor.feeds")


def report_poll(metrics: Metrics, result: PollResult) -> None:
    """Count one poll (duplicates, outcome, schedule lag, fetch time, error) and
    log its error or parse warning.

    Its duplicates are the entries the feed carried at its last poll too; the
    articles found again through other feeds are counted by
    the publisher stage (:class:`monitor.feeds.publisher.PublishRole`), which
    decides them and records their sources with any revision.
    """
    metrics.items.labels(result="duplicate").inc(len(result.duplicates))
    outcome = result.outcome if result.error is None else result.error.reason
    metrics.polls.labels(outcome=outcome).inc()
    metrics.schedule_lag_seconds.observe(result.lag_s)
    if result.fetch_s is not None:
        metrics.fetch_seconds.labels(kind="feed").observe(result.fetch_s)
    if result.error is not None:
        err = result.error
        metrics.errors.labels(stage="poller", kind=err.kind, reason=err.reason).inc()
        log.warning(
            "feed %s: %s",
            result.feed_id,
            result.state.last_error,
            extra={"feed_id": result.feed_id},
        )
    elif result.parse_warning:
        log.info(
            "feed %s: %s", result.feed_id, result.parse_warning, extra={"feed_id": result.feed_id}
        )


def report_health_change(
    metrics: Metrics,
    state: FeedState,
    before: Health | None,
    after: Health,
    counts: Mapping[Health, int],
) -> None:
    """Log a feed that turned broken or recovered from broken, and set the feeds
    gauge of its old and new health from ``counts`` (every feed's, after the change)."""
    if after == "broken":
        log.error(
            "feed %s: broken after %d failures: %s",
            state.feed_id,
            state.failures,
            state.last_error,
            extra={"event": "feed_broken", "feed_id": state.feed_id},
        )
    elif before == "broken":
        log.warning(
            "feed %s: recovered",
            state.feed_id,
            extra={"event": "feed_recovered", "feed_id": state.feed_id},
        )
    for label in (before, after):
        if label is not None:
            metrics.feeds.labels(health=label).set(counts[label])


def report_health_counts(metrics: Metrics, counts: Mapping[Health, int]) -> None:
    """Set the feeds gauge of every health from ``counts``."""
    for health, count in counts.items():
        metrics.feeds.labels(health=health).set(count)
