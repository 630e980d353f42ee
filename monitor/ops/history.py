"""The last hour of throughput and lag, kept in memory for the status page.

A :class:`MetricsHistory` holds a bounded ring of :class:`Sample` values read
from the metrics registry every ``interval_s`` seconds (by
:class:`HistorySampler`, a daemon thread). Rates are computed from
consecutive samples, so a restart of the process only empties the ring.
Reading the registry and computing rates are pure functions of their inputs.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from monitor.clock import Clock

#: Counters whose per-second rate the page plots, by the name shown to people.
RATE_SERIES: dict[str, str] = {
    "articles": "monitor_articles",
    "statements": "monitor_statements",
    "alerts": "monitor_alerts",
    "deliveries": "monitor_deliveries",
}


@dataclass(frozen=True, slots=True)
class Sample:
    """Counter totals and total consumer lag at one moment."""

    at: float
    totals: dict[str, float]
    lag: float


@dataclass(frozen=True, slots=True)
class Point:
    """Per-second rates over the interval ending at ``at``, and the lag at ``at``."""

    at: float
    rates: dict[str, float]
    lag: float


def read_sample(registry: CollectorRegistry, at: float) -> Sample:
    """Sum every counter in :data:`RATE_SERIES` and the consumer-lag gauge."""
    totals = dict.fromkeys(RATE_SERIES, 0.0)
    by_family = {family: name for name, family in RATE_SERIES.items()}
    lag = 0.0
    for family in registry.collect():
        if family.name in by_family:
            name = by_family[family.name]
            totals[name] += sum(s.value for s in family.samples if s.name.endswith("_total"))
        elif family.name == "monitor_consumer_lag":
            lag += sum(s.value for s in family.samples)
    return Sample(at=at, totals=totals, lag=lag)


def to_points(samples: Sequence[Sample]) -> list[Point]:
    """Rates between consecutive samples; a counter that went down (reset) counts as 0."""
    points: list[Point] = []
    for before, after in itertools.pairwise(samples):
        span = after.at - before.at
        if span <= 0:
            continue
        rates = {
            name: max(0.0, after.totals.get(name, 0.0) - before.totals.get(name, 0.0)) / span
            for name in RATE_SERIES
        }
        points.append(Point(at=after.at, rates=rates, lag=after.lag))
    return points


class MetricsHistory:
    """A thread-safe ring of samples covering ``window_s`` seconds."""

    def __init__(
        self,
        registry: CollectorRegistry,
        clock: Clock,
        *,
        interval_s: float = 10.0,
        window_s: float = 3600.0,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.interval_s = interval_s
        self.window_s = window_s
        self._samples: deque[Sample] = deque(maxlen=int(window_s / interval_s) + 1)
        self._lock = threading.Lock()

    def take_sample(self) -> Sample:
        sample = read_sample(self.registry, self.clock.now())
        with self._lock:
            self._samples.append(sample)
        return sample

    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def points(self) -> list[Point]:
        return to_points(self.samples())


class HistorySampler:
    """Samples a :class:`MetricsHistory` every ``interval_s`` until closed."""

    def __init__(self, history: MetricsHistory) -> None:
        self._history = history
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ops-history", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self._history.take_sample()
            if self._stop.wait(self._history.interval_s):
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
