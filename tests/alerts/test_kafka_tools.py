"""On real Kafka: ``monitor rules backtest`` and ``monitor alerts replay`` as a user runs them."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.alerts.role import DeliveryRole
from monitor.bus.codec import encode
from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from monitor.clock import SystemClock
from monitor.config import load_settings
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import Receiver, Seen, tagged_article
from tests.alerts.test_delivery import alerts_from_fixture
from tests.kafka_broker import KafkaTopics
from tests.support import run_monitor, write_config


def _numbered(text: str, n: int) -> str:
    return f"{text} ({n})"


@pytest.fixture
def kafka(kafka_settings: KafkaSettings) -> Iterator[KafkaBus]:
    bus = KafkaBus(kafka_settings)
    yield bus
    bus.close()


@pytest.mark.kafka
@pytest.mark.parametrize("offset_reset", ["earliest", "latest"])
def test_backtest_counts_rule_hits_on_stored_statements_and_sends_nothing(
    tmp_path: Path, kafka: KafkaBus, kafka_bootstrap: str, kafka_topics: KafkaTopics,
    offset_reset: str,
) -> None:
    """Backtest reads the whole history, whatever the daemon's consumers are told
    to do when they have no committed offset."""
    producer = kafka.producer()
    for n in range(3):
        article = tagged_article(article_id=f"bt-{n}", edit=functools.partial(_numbered, n=n))
        producer.send(kafka_topics.statements, article.article.id, encode(article))
    producer.flush()
    bus = kafka_topics.bus_config(kafka_bootstrap)
    bus["kafka"] = {"bootstrap_servers": kafka_bootstrap, "auto_offset_reset": offset_reset}
    config = write_config(tmp_path, bus=bus)
    result = run_monitor(config, "rules", "backtest", "--samples", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"source: Kafka topic {kafka_topics.statements} on {kafka_bootstrap}"
    assert lines[1] == "3 articles, 12 statements"
    # The three are one claim from one outlet ("… (1)", "… (2)"): the sink's dedup
    # makes them one story, sent once.
    assert lines[2].startswith("1 stories, 1 notifications would be sent (0 revisions; ")
    counts = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines[4:]
              if not line.startswith(" ")}
    assert counts["election-result-disputed"] == [6, 1, 1]  # two statements per article
    assert counts["foreign-interference-warning"] == [3, 1, 1]
    assert not kafka.consumer([kafka_topics.alerts], "peek").poll(1.0)


@pytest.mark.kafka
def test_dead_lettered_alerts_are_replayed_by_the_cli(
    tmp_path: Path, kafka: KafkaBus, kafka_bootstrap: str, kafka_topics: KafkaTopics
) -> None:
    healthy = threading.Event()

    def down_then_up(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        return (200, {}, 0.0) if healthy.is_set() else (503, {}, 0.0)

    receiver = Receiver(down_then_up).start()
    try:
        config = write_config(tmp_path, bus=kafka_topics.bus_config(kafka_bootstrap), extra={
            "alerts": {"receivers": [{"name": "hook", "url": receiver.url, "secret": "k"}],
                       "retry": {"max_attempts": 2, "backoff": {"base_s": 0.05, "cap_s": 0.1}},
                       "breaker": {"failure_threshold": 100}},
        })
        alerts = alerts_from_fixture(3)
        producer = kafka.producer()
        for alert in alerts:
            producer.send(kafka_topics.alerts, alert.id, encode(alert))
        producer.flush()
        settings = load_settings(config, environ={})
        role = DeliveryRole(RoleContext(settings, kafka, Metrics(), SystemClock()))
        role.run_once(idle_s=3.0)
        role.close()
        assert receiver.accepted_keys() == []
        assert len(receiver.requests) == 2 * len(alerts)  # the budget, no more

        healthy.set()
        result = run_monitor(config, "alerts", "replay")
        assert result.returncode == 0, result.stderr
        assert "replayed 3 dead-lettered alert(s)" in result.stdout
        assert sorted(receiver.accepted_keys()) == sorted(a.id for a in alerts)
        again = run_monitor(config, "alerts", "replay")
        assert "replayed 0" in again.stdout
        assert len(receiver.accepted_keys()) == len(alerts)
    finally:
        receiver.stop()
