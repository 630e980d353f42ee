"""The pure parts of delivery: what is in hand, each receiver's progress on it,
and when to try again (:func:`next_attempt`, a function of data and ``now``).

:class:`~monitor.alerts.delivery.engine.DeliveryEngine` is the I/O shell that drives these.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.alerts.settings import RetryBudget
from monitor.bus.base import Record
from monitor.messages import Alert
from monitor.retry import backoff_delay

#: Turns a record into the alert and the receivers it is for. Returns None for a
#: record that must be left for a later run (it stays uncommitted and blocks the
#: commits after it in its partition); raises PoisonError for one that can never
#: be delivered.
Extract = Callable[[Record], tuple[Alert, tuple[str, ...]] | None]


@dataclass(slots=True)
class Progress:
    """One receiver's progress on one alert."""

    attempts: int = 0
    first_attempt: float | None = None
    next_at: float = 0.0


@dataclass(slots=True)
class InFlight:
    record: Record
    #: None for a record that could not be decoded (already dead-lettered).
    alert: Alert | None
    waiting: dict[str, Progress] = field(default_factory=dict)
    deferred: bool = False


def next_attempt(
    progress: Progress, now: float, budget: RetryBudget, rng: random.Random,
    retry_after: float | None,
) -> float | None:
    """When to try again after a failed attempt, or None when the budget is spent."""
    first = progress.first_attempt if progress.first_attempt is not None else now
    if progress.attempts >= budget.max_attempts:
        return None
    delay = backoff_delay(budget.backoff, progress.attempts, rng, retry_after)
    if now + delay - first > budget.max_elapsed_s:
        return None
    return now + delay


@dataclass(frozen=True, slots=True)
class Outcome:
    """A receiver's final outcome for an alert, waiting to be written to the history."""

    alert_id: str
    receiver: str
    status: str
    attempts: int
    detail: str
    at: float
