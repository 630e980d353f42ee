"""On real Kafka: SIGKILL the sink mid-delivery, restart it, and lose no alert."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.bus.codec import encode
from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from tests.alerts.helpers import Receiver, Seen
from tests.alerts.test_delivery import alerts_from_fixture
from tests.kafka_broker import KafkaTopics
from tests.support import MonitorProcess, wait_for, write_config

ALERTS = 24


def slow_ok(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
    return 200, {}, 0.15  # slow enough that the kill lands mid-stream


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(slow_ok).start()
    yield server
    server.stop()


@pytest.mark.kafka
def test_sigkilled_sink_resumes_and_delivers_every_alert(
    tmp_path: Path,
    receiver: Receiver,
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    kafka_topics: KafkaTopics,
) -> None:
    alerts = alerts_from_fixture(ALERTS)
    assert len(alerts) == ALERTS
    bus = KafkaBus(kafka_settings)
    try:
        producer = bus.producer()
        for alert in alerts:
            producer.send(kafka_topics.alerts, alert.id, encode(alert))
        producer.flush()
    finally:
        bus.close()
    config = write_config(
        tmp_path,
        bus=kafka_topics.bus_config(kafka_bootstrap),
        extra={
            "alerts": {"receivers": [{"name": "hook", "url": receiver.url,
                                      "secret": "kill-test"}],
                       "max_in_flight": 4},
            "ops": {"http_enabled": False},
        },
    )
    first = MonitorProcess(config, "run", "--roles", "alerts")
    try:
        wait_for(lambda: len(receiver.accepted_keys()) >= 4, 120, "first deliveries")
    finally:
        first.stop(signal.SIGKILL)
    delivered_before_kill = set(receiver.accepted_keys())
    assert len(delivered_before_kill) < ALERTS, "the kill came too late to test anything"

    second = MonitorProcess(config, "run", "--roles", "alerts")
    ids = {a.id for a in alerts}
    try:
        wait_for(lambda: set(receiver.accepted_keys()) >= ids, 120, "every alert delivered")
    finally:
        code = second.stop()
    assert code == 0, second.output()[-3000:]
    assert "Traceback" not in second.output()
    keys = receiver.accepted_keys()
    assert set(keys) == ids
    # Only alerts in flight at the kill may be repeated (receivers drop them by key).
    assert len(keys) - len(ids) <= 4
