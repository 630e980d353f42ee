"""Time as an injected dependency, so decisions stay pure and testable."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> float:
        """Seconds since the epoch (wall clock, for timestamps and schedules)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for timeouts and latency)."""


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FrozenClock:
    """A clock for tests that moves only when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._mono = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds


def iso_utc(epoch_seconds: float, *, millis: bool = False) -> str:
    """Format epoch seconds as ISO-8601 UTC with a ``Z`` suffix.

    Whole seconds by default (dates of articles); ``millis`` keeps
    milliseconds, for timestamps that latency is measured from.
    """
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    spec = "milliseconds" if millis else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def parse_iso(text: str) -> float | None:
    """Epoch seconds of an ISO-8601 timestamp (``Z`` accepted), or None if unreadable."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
