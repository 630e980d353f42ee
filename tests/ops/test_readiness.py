"""What /readyz decides (pure)."""

from __future__ import annotations

from monitor.ops.metrics import Metrics
from monitor.ops.readiness import assess_readiness, lag_by_group


def test_ready_when_running_and_caught_up() -> None:
    verdict = assess_readiness(
        stopping=False, bus_reachable=True, roles_running=[("nlp", True)],
        lag={"nlp": 1000}, max_lag=1000,
    )
    assert verdict.ready and verdict.reasons == ()


def test_every_reason_is_listed() -> None:
    verdict = assess_readiness(
        stopping=True,
        bus_reachable=False,
        roles_running=[("poller", True), ("nlp", False)],
        lag={"nlp": 1001, "alerts": 3},
        max_lag=1000,
    )
    assert not verdict.ready
    assert verdict.reasons == (
        "stopping",
        "the bus does not answer",
        "role nlp is not running",
        "consumer group nlp is 1001 records behind (max 1000)",
    )


def test_lag_is_summed_per_group() -> None:
    metrics = Metrics()
    metrics.consumer_lag.labels("nlp", "monitor.articles", "0").set(4)
    metrics.consumer_lag.labels("nlp", "monitor.articles", "1").set(6)
    metrics.consumer_lag.labels("alerts", "monitor.statements", "0").set(1)
    assert lag_by_group(metrics.registry) == {"nlp": 10, "alerts": 1}
