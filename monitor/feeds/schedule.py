"""When to poll a feed next: pure functions of (state, what happened, now).

After a success the interval follows the feed's own rhythm (half the median
gap between its recent items, so a new item waits at most about half a gap),
clamped to the configured bounds, never shorter than the feed asked for
(``ttl``, ``sy:updatePeriod``, ``Cache-Control: max-age``) and spread by a
little jitter so feeds added together drift apart. After a failure the wait
grows exponentially with full jitter up to a cap and never gives up; a
``Retry-After`` is a floor, itself capped.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import statistics
from collections.abc import Sequence

from monitor.errors import MonitorError, RetryableError
from monitor.feeds.settings import PollerSettings
from monitor.feeds.state import FeedState
from monitor.retry import BackoffPolicy, backoff_delay
from monitor.text import one_line

#: How many recent item times are kept to learn a feed's rhythm.
RHYTHM_WINDOW = 12


def learned_interval(
    item_times: Sequence[float], settings: PollerSettings, fixed_s: float | None = None
) -> float:
    """The base interval before hints and jitter."""
    if fixed_s is not None:
        return fixed_s
    ordered = sorted(item_times)[-RHYTHM_WINDOW:]
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b > a]
    if len(gaps) < 2:
        return min(max(settings.default_interval_s, settings.min_interval_s),
                   settings.max_interval_s)
    wanted = statistics.median(gaps) / 2
    return min(max(wanted, settings.min_interval_s), settings.max_interval_s)


def after_success(
    state: FeedState,
    now: float,
    settings: PollerSettings,
    rng: random.Random,
    *,
    item_times: Sequence[float] = (),
    hint_s: float | None = None,
    fixed_s: float | None = None,
) -> FeedState:
    """State after a successful poll (200 or 304) at ``now``.

    ``item_times`` are publication times of the entries that were new in this
    poll (or ``now`` for undated ones); ``hint_s`` is the longest interval the
    feed asked for in this answer.
    """
    times = tuple(sorted((*state.recent_item_times, *item_times)))[-RHYTHM_WINDOW:]
    interval = learned_interval(times, settings, fixed_s)
    hint = hint_s if hint_s is not None else state.hint_s
    if hint is not None and fixed_s is None:
        interval = max(interval, min(hint, settings.backoff_cap_s))
    spread = 1.0 + rng.uniform(-settings.interval_jitter, settings.interval_jitter)
    return dataclasses.replace(
        state,
        next_poll_at=now + interval * spread,
        interval_s=interval,
        last_poll_at=now,
        last_success_at=now,
        failures=0,
        recent_item_times=times,
        hint_s=hint,
    )


def failure_delay(
    failures: int, settings: PollerSettings, rng: random.Random, retry_after: float | None
) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure.

    At most ``backoff_cap_s`` (a ``Retry-After`` included: a server asking
    for a year must not silence a feed for a year), at least the smaller of
    ``min_interval_s`` and the cap.
    """
    policy = BackoffPolicy(base_s=settings.backoff_base_s, cap_s=settings.backoff_cap_s,
                           max_retry_after_s=settings.backoff_cap_s)
    delay = backoff_delay(policy, failures, rng, retry_after)
    # Full jitter may draw almost zero; never come back sooner than the
    # smallest regular interval (or the cap, if that is smaller).
    return max(delay, min(settings.min_interval_s, settings.backoff_cap_s))


def after_failure(
    state: FeedState, now: float, error: MonitorError, settings: PollerSettings,
    rng: random.Random,
) -> FeedState:
    """State after a failed poll at ``now``: backoff, error recorded."""
    failures = state.failures + 1
    retry_after = error.retry_after if isinstance(error, RetryableError) else None
    return dataclasses.replace(
        state,
        next_poll_at=now + failure_delay(failures, settings, rng, retry_after),
        last_poll_at=now,
        last_error_at=now,
        last_error=one_line(error)[:300],
        error_reason=error.reason,
        failures=failures,
    )


def schedule_lag(state: FeedState, started_at: float) -> float:
    """How late a poll started after it was due (never negative)."""
    return max(0.0, started_at - state.next_poll_at)
