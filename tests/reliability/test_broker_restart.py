"""The Kafka broker stopped and started again while articles stream through.

Uses a broker of its own (``scripts/kafka-local`` on a free port, with a
private ``KAFKA_LOCAL_HOME`` that borrows the cached Kafka jars), so the
shared broker other tests use is never touched. The broker is stopped cleanly
(SIGTERM), kept down for ``MONITOR_BROKER_DOWN_S`` seconds (default 10) and
started again on the same data directory. Expected: every alert of the
fault-free reference delivered; recovery time measured from the broker
serving again to the next alert at the webhook.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.bus.codec import TopicNames
from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from tests.kafka_broker import KAFKA_LOCAL, KafkaTopics
from tests.reliability.harness import (
    CountingReceiver,
    Launcher,
    Offerer,
    Results,
    corpus,
    env_number,
    pipeline_config,
    pipeline_state,
    wait_all_alerted,
)
from tests.reliability.reference import expected_alert_ids
from tests.support import wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.kafka]

DOWN_S = env_number("MONITOR_BROKER_DOWN_S", 10.0)
ARTICLES = int(env_number("MONITOR_FAULT_ARTICLES", 90))
RATE = env_number("MONITOR_FAULT_RATE", 6.0)


def _free_port_pair() -> int:
    """A port p with p and p + 1 both free (client and controller listeners)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise AssertionError("no two adjacent free ports on loopback")


class OwnBroker:
    """A kafka-local broker on its own port and home, for this test only."""

    def __init__(self, home: Path) -> None:
        self.port = _free_port_pair()
        self.env = {**os.environ, "KAFKA_LOCAL_PORT": str(self.port)}
        version = os.environ.get("KAFKA_LOCAL_VERSION", "4.1.2")
        shared = Path(os.environ.get("KAFKA_LOCAL_HOME", Path.home() / ".cache/monitor-kafka"))
        cached_lib = shared / f"kafka-{version}" / "lib"
        if (cached_lib / ".complete").exists():  # borrow the jars, keep state private
            (home / f"kafka-{version}").mkdir(parents=True)
            (home / f"kafka-{version}" / "lib").symlink_to(cached_lib)
            self.env["KAFKA_LOCAL_HOME"] = str(home)
        self.address = f"127.0.0.1:{self.port}"

    def run(self, action: str) -> float:
        """Run ``kafka-local ACTION``; return how long it took."""
        started = time.monotonic()
        done = subprocess.run([str(KAFKA_LOCAL), action], env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, f"kafka-local {action}: {done.stderr[-2000:]}"
        return time.monotonic() - started


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    broker = OwnBroker(tmp_path / "kafka-home")
    broker.run("start")
    try:
        yield broker
    finally:
        broker.run("stop")
        shutil.rmtree(tmp_path / "kafka-home", ignore_errors=True)


def test_broker_stop_and_start_mid_stream_loses_no_alert(
    tmp_path: Path, own_broker: OwnBroker, launcher: Launcher, receiver: CountingReceiver,
    results: Results,
) -> None:
    suffix = f"restart.{int(time.time())}"
    names = TopicNames(**{k: f"{v}.{suffix}" for k, v in TopicNames().model_dump().items()})
    topics = KafkaTopics(suffix=suffix, names=names)
    bus = KafkaBus(KafkaSettings(bootstrap_servers=(own_broker.address,)))
    bus.ensure_topics(topics.all)
    bus.close()
    items = corpus(ARTICLES, start=400_000)
    expected = expected_alert_ids(tmp_path / "reference", items)
    config = pipeline_config(tmp_path / "run", own_broker.address, topics, receiver.url)
    for role in ("nlp", "alerts"):
        launcher.start(config, "run", "--roles", role)
    offerer = Offerer(own_broker.address, topics.articles, items, RATE).start()
    wait_for(lambda: len(receiver.articles_alerted()) >= ARTICLES // 3, 240,
             "a third of the articles alerted before the broker stops")
    stop_s = own_broker.run("stop")
    down_at = time.monotonic()
    time.sleep(DOWN_S)
    start_s = own_broker.run("start")
    back_at = time.monotonic()
    before = len(receiver.received)
    wait_for(lambda: len(receiver.received) > before, 240, "an alert after the broker is back")
    first_after = time.monotonic()
    offerer.close()
    try:
        wait_all_alerted(receiver, {a.id for a in items}, 240, "after the broker restart")
        wait_for(lambda: expected <= receiver.keys(), 120, "every expected alert")
    except AssertionError:
        state = pipeline_state(own_broker.address, topics, receiver, launcher)
        print(state)
        results.record("broker-restart", status="FAILED", diagnosis=state.splitlines()[:6])
        raise
    tally = receiver.tally()
    results.record(
        "broker-restart", articles_in=len(items), alerts_expected=len(expected),
        alerts_delivered=len(tally.keys), posts=tally.posts, duplicates_by_key=tally.duplicates,
        revisions=tally.revisions, lost=len(expected - tally.keys),
        broker_down_s=back_at - down_at, broker_stop_s=stop_s, broker_start_s=start_s,
        recovery_s=first_after - back_at, producer_send_retries=offerer.send_failures,
    )
    assert tally.keys == expected, f"lost: {sorted(expected - tally.keys)[:5]}"
    assert tally.bad_signatures == 0
