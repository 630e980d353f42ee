"""The webhook receiver goes away while alerts keep coming, then comes back.

"Several minutes" is scaled to what CI affords: ``MONITOR_RECEIVER_DOWN_S``
(default 60 s) of connection refused, with the sink's retry backoff capped at
3 s and a breaker that probes every 1-3 s (``SINK_SETTINGS``), so the outage
stays within the retry budget and the backlog flows as soon as the receiver
listens again. Expected: every alert of the fault-free reference delivered
exactly once per revision; duplicates by Idempotency-Key reported.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.kafka_broker import KafkaTopics
from tests.reliability.harness import (
    CountingReceiver,
    Launcher,
    Offerer,
    Results,
    corpus,
    env_number,
    pipeline_config,
    pipeline_state,
)
from tests.reliability.reference import expected_alert_ids
from tests.support import wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.kafka]

DOWN_S = env_number("MONITOR_RECEIVER_DOWN_S", 60.0)
ARTICLES = int(env_number("MONITOR_FAULT_ARTICLES", 90))


def test_receiver_down_then_back_every_alert_delivered(
    tmp_path: Path, kafka_bootstrap: str, kafka_topics: KafkaTopics, launcher: Launcher,
    receiver: CountingReceiver, results: Results,
) -> None:
    items = corpus(ARTICLES, start=500_000)
    expected = expected_alert_ids(tmp_path / "reference", items)
    config = pipeline_config(tmp_path / "run", kafka_bootstrap, kafka_topics, receiver.url)
    for role in ("nlp", "alerts"):
        launcher.start(config, "run", "--roles", role)
    # Spread the articles over the outage: a third before, the rest while it is down.
    rate = max(1.0, ARTICLES / (DOWN_S * 0.8 + 15))
    offerer = Offerer(kafka_bootstrap, kafka_topics.articles, items, rate).start()
    wait_for(lambda: len(receiver.articles_alerted()) >= ARTICLES // 4, 240,
             "a quarter of the articles alerted before the outage")
    receiver.down()
    time.sleep(DOWN_S)
    during = len(receiver.received)
    receiver.up()
    back_at = time.monotonic()
    offerer.close()
    try:
        wait_for(lambda: len(receiver.received) > during, 120, "a delivery after the outage")
        first_after = time.monotonic()
        wait_for(lambda: expected <= receiver.keys(), 240, "every expected alert")
    except AssertionError:
        state = pipeline_state(kafka_bootstrap, kafka_topics, receiver, launcher)
        print(state)
        results.record("receiver-outage", status="FAILED", diagnosis=state.splitlines()[:6])
        raise
    drained = time.monotonic()
    tally = receiver.tally()
    results.record(
        "receiver-outage", articles_in=len(items), alerts_expected=len(expected),
        alerts_delivered=len(tally.keys), posts=tally.posts, duplicates_by_key=tally.duplicates,
        revisions=tally.revisions, lost=len(expected - tally.keys), receiver_down_s=DOWN_S,
        recovery_s=first_after - back_at, backlog_drained_s=drained - back_at,
    )
    assert tally.keys == expected
    assert tally.bad_signatures == 0
