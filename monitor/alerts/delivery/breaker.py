"""A circuit breaker per endpoint, as a pure state machine over injected time.

closed     calls go through; ``failure_threshold`` consecutive failures open it.
open       calls are refused until ``open_until``; then one probe is allowed.
half_open  one probe is in flight: success closes the circuit, failure opens
           it again for twice as long (capped), so a receiver that stays down
           is asked less and less often instead of being hammered.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from monitor.alerts.settings import BreakerSettings

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class Breaker:
    state: BreakerState = "closed"
    failures: int = 0
    open_until: float = 0.0
    open_s: float = 0.0


def allows(breaker: Breaker, now: float) -> bool:
    """Whether a call may be made at ``now`` (a half-open probe counts as allowed)."""
    if breaker.state == "closed":
        return True
    if breaker.state == "open":
        return now >= breaker.open_until
    return False  # a probe is already in flight


def before_call(breaker: Breaker, now: float) -> Breaker:
    """The state once a call is started (an open circuit past its time turns half-open)."""
    if breaker.state == "open" and now >= breaker.open_until:
        return dataclasses.replace(breaker, state="half_open")
    return breaker


def on_success(breaker: Breaker) -> Breaker:
    return Breaker()


def on_failure(breaker: Breaker, now: float, settings: BreakerSettings) -> Breaker:
    """The state after a failed call."""
    if breaker.state == "half_open":
        open_s = min(settings.max_open_s, max(breaker.open_s, settings.open_s) * 2)
        return Breaker("open", breaker.failures + 1, now + open_s, open_s)
    failures = breaker.failures + 1
    if failures >= settings.failure_threshold:
        return Breaker("open", failures, now + settings.open_s, settings.open_s)
    return dataclasses.replace(breaker, failures=failures)


def next_allowed(breaker: Breaker, now: float) -> float:
    """The earliest time a call may be made."""
    return breaker.open_until if breaker.state == "open" else now
