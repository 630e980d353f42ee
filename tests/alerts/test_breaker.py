"""The circuit breaker state machine."""

from __future__ import annotations

from monitor.alerts.delivery import breaker as cb
from monitor.alerts.settings import BreakerSettings

SETTINGS = BreakerSettings(failure_threshold=3, open_s=10, max_open_s=25)


def test_opens_after_threshold_then_probes_once_and_backs_off() -> None:
    b = cb.Breaker()
    for _ in range(2):
        b = cb.on_failure(b, 0.0, SETTINGS)
        assert cb.allows(b, 0.0)
    b = cb.on_failure(b, 0.0, SETTINGS)
    assert b.state == "open" and not cb.allows(b, 9.9)
    assert cb.allows(b, 10.0)
    b = cb.before_call(b, 10.0)
    assert b.state == "half_open" and not cb.allows(b, 10.0)  # one probe at a time
    b = cb.on_failure(b, 10.0, SETTINGS)
    assert (b.state, b.open_until) == ("open", 30.0)  # open period doubled
    b = cb.on_failure(cb.before_call(b, 30.0), 30.0, SETTINGS)
    assert b.open_until == 55.0  # capped at max_open_s
    b = cb.on_success(cb.before_call(b, 55.0))
    assert b == cb.Breaker() and cb.allows(b, 55.0)


def test_success_resets_the_failure_count() -> None:
    b = cb.on_failure(cb.on_failure(cb.Breaker(), 0, SETTINGS), 0, SETTINGS)
    b = cb.on_failure(cb.on_success(b), 0, SETTINGS)
    assert b.state == "closed" and b.failures == 1
