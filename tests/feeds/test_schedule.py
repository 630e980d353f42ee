from __future__ import annotations

import dataclasses
import itertools
import random

import pytest

from monitor.feeds.errors import NotAFeed, RateLimited
from monitor.feeds.schedule import after_failure, after_success, failure_delay, learned_interval
from monitor.feeds.settings import PollerSettings
from monitor.feeds.state import new_state
from monitor.retry import BackoffPolicy, backoff_delay

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


@pytest.mark.parametrize("failures", [1_025, 10_000, 10**12])
def test_backoff_stays_at_the_cap_after_any_number_of_failures(failures: int) -> None:
    state = dataclasses.replace(new_state("f", "http://ex.org/f", NOW), failures=failures - 1)
    failed = after_failure(state, NOW, NotAFeed("not a feed"), SETTINGS, random.Random(5))
    assert failed.failures == failures
    assert NOW + 60 <= failed.next_poll_at <= NOW + 86400


def test_backoff_delay_is_finite_for_any_attempt_and_multiplier() -> None:
    steep = BackoffPolicy(base_s=1.0, cap_s=30.0, multiplier=1e6)
    flat = BackoffPolicy(base_s=5.0, cap_s=30.0, multiplier=1.0)
    for attempt in (1, 2, 64, 10_000):
        assert 0 <= backoff_delay(steep, attempt, random.Random(attempt)) <= 30
        assert 0 <= backoff_delay(flat, attempt, random.Random(attempt)) <= 5


@pytest.mark.parametrize("asked", [1e9, float("inf")])
def test_retry_after_is_capped_for_feeds(asked: float) -> None:
    state = new_state("f", "http://ex.org/f", NOW)
    failed = after_failure(state, NOW, RateLimited("429", retry_after=asked), SETTINGS,
                           random.Random(0))
    assert failed.next_poll_at == NOW + SETTINGS.backoff_cap_s


def test_retry_after_is_unbounded_unless_the_policy_says_so() -> None:
    policy = BackoffPolicy(base_s=1.0, cap_s=30.0)
    assert backoff_delay(policy, 1, random.Random(0), retry_after=3600) == 3600
    bounded = policy.model_copy(update={"max_retry_after_s": 600.0})
    assert backoff_delay(bounded, 1, random.Random(0), retry_after=3600) == 600
