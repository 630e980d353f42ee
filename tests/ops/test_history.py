"""Throughput and lag history read from a real metrics registry."""

from __future__ import annotations

from monitor.clock import FrozenClock
from monitor.ops.history import MetricsHistory, Sample, to_points
from monitor.ops.metrics import Metrics


def test_samples_sum_labelled_counters_and_lag() -> None:
    metrics, clock = Metrics(), FrozenClock(start=1000.0)
    history = MetricsHistory(metrics.registry, clock, interval_s=10, window_s=30)
    history.take_sample()
    metrics.articles.inc(20)
    metrics.statements.labels("election").inc(5)
    metrics.statements.labels("none").inc(15)
    metrics.deliveries.labels("hook", "delivered").inc(3)
    metrics.consumer_lag.labels("nlp", "monitor.articles", "0").set(7)
    metrics.consumer_lag.labels("alerts", "monitor.statements", "0").set(2)
    clock.advance(10)
    history.take_sample()
    [point] = history.points()
    assert point.at == 1010.0
    assert point.rates == {"articles": 2.0, "statements": 2.0, "alerts": 0.0, "deliveries": 0.3}
    assert point.lag == 9


def test_ring_keeps_only_the_window() -> None:
    metrics, clock = Metrics(), FrozenClock()
    history = MetricsHistory(metrics.registry, clock, interval_s=10, window_s=30)
    for _ in range(10):
        history.take_sample()
        clock.advance(10)
    assert len(history.samples()) == 4


def test_counter_reset_counts_as_zero_not_negative() -> None:
    before = Sample(0.0, {"articles": 50.0}, 0.0)
    after = Sample(10.0, {"articles": 5.0}, 0.0)
    assert to_points([before, after])[0].rates["articles"] == 0.0
    assert to_points([after, after]) == []
