"""Delivery health per receiver, the summary line and the failure warnings."""

from __future__ import annotations

import logging
import time

import pytest

from monitor.ops.metrics import Metrics
from monitor.ops.watch import DeliveryWatch, OpsWatch, receiver_state, summary_line


def test_receiver_state_orders_breaker_retrying_dead_letters_ok() -> None:
    assert receiver_state(0, 5, 0) == "ok"
    assert receiver_state(0, 5, 2) == "dead letters waiting"
    assert receiver_state(3, 5, 2) == "retrying"
    assert receiver_state(6, 5, 0) == "breaker open"


def test_a_receiver_failing_six_times_shows_breaker_open_until_it_delivers() -> None:
    metrics = Metrics()
    watch = DeliveryWatch(metrics.registry)
    metrics.deliveries.labels("desk", "delivered").inc()
    watch.observe()
    assert [(h.name, h.state) for h in watch.health(["desk", "idle"], 5)] == [
        ("desk", "ok"), ("idle", "ok")]  # fmt: skip
    metrics.deliveries.labels("desk", "http_5xx").inc(2)
    watch.observe()
    assert watch.health(["desk"], 5)[0].state == "retrying"
    metrics.deliveries.labels("desk", "connect").inc(4)
    metrics.deliveries.labels("desk", "superseded").inc()  # not an attempt
    watch.observe()
    (desk,) = watch.health(["desk"], 5)
    assert (desk.state, desk.failing_in_a_row, desk.failed, desk.delivered) == (
        "breaker open", 6, 6, 1)  # fmt: skip
    metrics.deliveries.labels("desk", "deadlettered").inc()
    metrics.deliveries.labels("desk", "delivered").inc()
    watch.observe()
    assert watch.health(["desk"], 5)[0].state == "dead letters waiting"


def test_the_summary_line_counts_the_last_interval() -> None:
    before = {"polls": 10, "articles": 5, "alerts": 1, "delivered": 1, "failed": 0}
    after = {"polls": 22, "articles": 35, "alerts": 3, "delivered": 2, "failed": 6}
    assert summary_line(before, after) == (
        "last minute: 12 polls, 30 articles, 2 alerts, 1 deliveries (6 failed attempts)"
    )


def test_the_watch_logs_the_summary_at_info_and_failures_at_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    watch = OpsWatch(metrics.registry, lambda: (["desk"], 5), observe_s=0.02, summary_s=0.1)
    with caplog.at_level(logging.INFO, logger="monitor.ops.watch"):
        watch.start()
        metrics.polls.labels("ok").inc(3)
        metrics.deliveries.labels("desk", "timeout").inc(2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            r.levelno == logging.WARNING for r in caplog.records
        ):
            time.sleep(0.05)
        watch.close()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("last minute: 3 polls") and "(2 failed attempts)" in m for m in infos)
    assert warnings[0] == "deliveries to desk: 2 failed attempts in the last minute (retrying)"
