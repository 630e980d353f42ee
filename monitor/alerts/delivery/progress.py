"""The pure parts of delivery: what is in hand, each receiver's progress on it,
and when to try again (:func:`next_attempt`, a function of data and ``now``).

:class:`~monitor.alerts.delivery.engine.DeliveryEngine` is the I/O shell that drives these.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.alerts.deliverable import Deliverable
from monitor.alerts.settings import RetryBudget
from monitor.bus.base import Record
from monitor.retry import backoff_delay

#: Turns a record into the alert and the receivers it is for. Returns None for a
#: record that must be left for a later run (it stays uncommitted and blocks the
#: commits after it in its partition); raises PoisonError for one that can never
#: be delivered.
Extract = Callable[[Record], tuple[Deliverable, tuple[str, ...]] | None]


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
    alert: Deliverable | None
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


def paced_until(
    revision: int, sent_revision: int | None, sent_at: float | None, group_interval_s: float
) -> float:
    """The earliest time a story's ``revision`` may go to a receiver that last got
    ``sent_revision`` at ``sent_at`` (None: never): a later revision waits until
    ``group_interval_s`` after the last one sent; a first one need not wait."""
    if sent_at is None or sent_revision is None or revision <= sent_revision:
        return 0.0
    return sent_at + group_interval_s


@dataclass(frozen=True, slots=True)
class Outcome:
    """A receiver's final outcome for an alert (or a story's ``revision``),
    waiting to be written to the history."""

    alert_id: str
    receiver: str
    status: str
    attempts: int
    detail: str
    at: float
    revision: int = 1
