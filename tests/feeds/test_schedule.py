from __future__ import annotations

import itertools
import random

from monitor.feeds.errors import NotAFeed, RateLimited
from monitor.feeds.schedule import after_failure, after_success, failure_delay, learned_interval
from monitor.feeds.settings import PollerSettings
from monitor.feeds.state import new_state

NOW = 1_700_000_000.0
SETTINGS = PollerSettings(
    min_interval_s=60, max_interval_s=3600, default_interval_s=900, interval_jitter=0.0,
    backoff_base_s=60, backoff_cap_s=86400, broken_after_failures=3,
)


def test_rhythm_is_half_the_median_gap_within_bounds() -> None:
    every_20_min = [NOW - i * 1200 for i in range(6)]
    assert learned_interval(every_20_min, SETTINGS) == 600
    hourly_for_days = [NOW - i * 86400 for i in range(6)]
    assert learned_interval(hourly_for_days, SETTINGS) == 3600
    bursty = [NOW - i * 10 for i in range(6)]
    assert learned_interval(bursty, SETTINGS) == 60


def test_unknown_rhythm_uses_default_and_fixed_interval_wins() -> None:
    assert learned_interval([], SETTINGS) == 900
    assert learned_interval([NOW - i * 1200 for i in range(6)], SETTINGS, fixed_s=42) == 42


def test_feed_hint_is_a_floor_on_the_interval() -> None:
    state = new_state("f", "http://ex.org/f", NOW)
    done = after_success(state, NOW, SETTINGS, random.Random(1), hint_s=7200)
    assert done.next_poll_at == NOW + 7200
    assert done.failures == 0 and done.last_success_at == NOW


def test_jitter_spreads_polls_within_bounds() -> None:
    settings = SETTINGS.model_copy(update={"interval_jitter": 0.1})
    state = new_state("f", "http://ex.org/f", NOW)
    rng = random.Random(7)
    times = {after_success(state, NOW, settings, rng).next_poll_at for _ in range(50)}
    assert len(times) > 40
    assert all(NOW + 810 <= t <= NOW + 990 for t in times)


def test_backoff_grows_is_capped_and_never_gives_up() -> None:
    state = new_state("f", "http://ex.org/f", NOW)
    rng = random.Random(3)
    healths = []
    for _ in range(40):
        state = after_failure(state, NOW, NotAFeed("not a feed: html"), SETTINGS, rng)
        healths.append(state.health(SETTINGS.broken_after_failures))
        assert NOW + 60 <= state.next_poll_at <= NOW + 86400
    assert state.failures == 40
    assert healths[:3] == ["degraded", "degraded", "broken"]
    assert state.last_error == "not a feed: html" and state.error_reason == "not_a_feed"
    recovered = after_success(state, NOW, SETTINGS, rng)
    assert recovered.health(SETTINGS.broken_after_failures) == "ok"


def test_backoff_ceiling_doubles_per_failure() -> None:
    def widest(failures: int) -> float:
        return max(failure_delay(failures, SETTINGS, random.Random(seed), None)
                   for seed in range(300))

    ceilings = [widest(n) for n in range(1, 12)]
    assert all(b > a for a, b in itertools.pairwise(ceilings[:8]))
    assert 50_000 < ceilings[-1] <= 86400


def test_retry_after_is_a_floor() -> None:
    state = new_state("f", "http://ex.org/f", NOW)
    failed = after_failure(state, NOW, RateLimited("429", retry_after=7200), SETTINGS,
                           random.Random(0))
    assert failed.next_poll_at >= NOW + 7200
    assert failed.error_reason == "rate_limited"
