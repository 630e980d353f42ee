"""Undecodable and oversized messages on a real broker: dead-lettered, the stream goes on.

Bad records are put on every topic a stage consumes (articles, statements,
alerts), interleaved with good articles on all partitions. Expected: each bad
record ends up on the dead-letter topic with a reason; every good article
still raises its alerts; no stage process dies. The oversized article (about
700 KB of text, under the broker's 1 MB record limit) makes the NLP stage's
own output exceed that limit: it must be dead-lettered or handled, never
block its partition.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.bus.codec import decode, encode
from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from monitor.messages import Article, DeadLetter
from tests.kafka_broker import KafkaTopics
from tests.reliability.harness import (
    CountingReceiver,
    Launcher,
    Results,
    corpus,
    pipeline_config,
    pipeline_state,
    read_topic,
    wait_all_alerted,
)
from tests.support import wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.kafka]


def bad_records(template: Article) -> list[tuple[str, str, bytes]]:
    """(topic field, key, value) for every kind of bad record."""
    article = json.loads(encode(template))
    future = {**article, "schema": "article/99"}
    huge = {**article, "id": "huge-1", "url": "https://bench.example/huge",
            "text": ("The election was held. " * 32_000)[:700_000]}
    binary = {**article, "id": "binary-1", "url": "https://bench.example/binary",
              "text": "\x00\x01\x02 junk " * 200}
    return [
        ("articles", "junk-1", b"\xff\xfe\x00\x9c not json at all"),
        ("articles", "junk-2", b"{}"),
        ("articles", "junk-3", json.dumps(future).encode()),
        ("articles", "junk-4", b""),
        ("articles", "junk-5", b"[" * 100_000),
        ("articles", "binary-1", json.dumps(binary).encode()),
        ("articles", "huge-1", json.dumps(huge).encode()),
        ("statements", "junk-6", b"\x00\x00 garbage"),
        ("statements", "junk-7", json.dumps({"schema": "tagged/1", "article": None}).encode()),
        ("alerts", "junk-8", b"not an alert"),
        ("alerts", "junk-9", json.dumps({"schema": "alert/1"}).encode()),
    ]


def test_bad_records_are_dead_lettered_and_good_ones_flow(
    tmp_path: Path, kafka_bootstrap: str, kafka_topics: KafkaTopics, launcher: Launcher,
    receiver: CountingReceiver, results: Results,
) -> None:
    good = corpus(12, start=600_000)
    bad = bad_records(good[0])
    config = pipeline_config(tmp_path, kafka_bootstrap, kafka_topics, receiver.url)
    bus = KafkaBus(KafkaSettings(bootstrap_servers=(kafka_bootstrap,)))
    producer = bus.producer()
    try:
        for index, article in enumerate(good):
            if index < len(bad):  # interleave: bad records sit before good ones
                field, key, value = bad[index]
                producer.send(getattr(kafka_topics.names, field), key, value)
            producer.send(kafka_topics.articles, article.id, encode(article))
        producer.flush()
    finally:
        producer.close()
        bus.close()
    processes = [launcher.start(config, "run", "--roles", role) for role in ("nlp", "alerts")]
    try:
        wait_all_alerted(receiver, {a.id for a in good}, 150, "good articles among bad ones")
        wait_for(lambda: len(read_topic(kafka_bootstrap, kafka_topics.deadletter, 1)) >= 10,
                 120, "dead letters for the bad records")
    except AssertionError:
        state = pipeline_state(kafka_bootstrap, kafka_topics, receiver, launcher)
        print(state)
        results.record("kafka-poison", status="FAILED", diagnosis=state.splitlines()[:6])
        raise
    letters = [decode(v, DeadLetter) for v in read_topic(kafka_bootstrap, kafka_topics.deadletter)]
    lettered = {letter.key for letter in letters}
    results.record(
        "kafka-poison", bad_records_in=len(bad), dead_letters=len(letters),
        good_articles_in=len(good), good_articles_alerted=len(receiver.articles_alerted()),
        oversized_article="dead-lettered" if "huge-1" in lettered else "tagged",
    )
    assert all(p.popen.poll() is None for p in processes), "a stage process died"
    expected_letters = {key for _, key, _ in bad} - {"huge-1"}
    assert expected_letters <= lettered, f"not dead-lettered: {expected_letters - lettered}"
    for letter in letters:
        assert letter.reason.strip() and "\n" not in letter.reason.strip(), letter.reason
        assert letter.error_kind in ("poison", "permanent"), letter
