"""KafkaBus against a real broker (see tests/kafka_broker.py for where it comes from)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence

import pytest
from kafka import KafkaAdminClient
from kafka import errors as kafka_errors
from kafka.admin import ConfigResource, ConfigResourceType

from monitor.bus.base import Consumer, Producer, Record
from monitor.bus.kafka import (
    KafkaBus,
    KafkaPermanent,
    KafkaRetryable,
    translate,
)
from monitor.bus.settings import KafkaSettings
from monitor.errors import BrokerUnavailable, RetryableError
from tests.kafka_broker import KAFKA_LOCAL, KAFKA_LOCAL_START_LIMIT_S, KafkaTopics

#: Polls of half a second each before a test gives up waiting for records.
MAX_POLLS = 60


@pytest.fixture
def bus(kafka_settings: KafkaSettings) -> Iterator[KafkaBus]:
    bus = KafkaBus(kafka_settings)
    yield bus
    bus.close()


@pytest.fixture
def producer(bus: KafkaBus) -> Iterator[Producer]:
    producer = bus.producer()
    yield producer
    producer.close()


def poll_until(consumer: Consumer, count: int, max_records: int = 500) -> list[Record]:
    """Poll until ``count`` records arrived (or MAX_POLLS ran out); return what came."""
    records: list[Record] = []
    for _ in range(MAX_POLLS):
        if len(records) >= count:
            break
        records.extend(consumer.poll(0.5, max_records=max_records))
    return records


def publish(producer: Producer, topic: str, key: str | None, values: Sequence[bytes]) -> None:
    for value in values:
        producer.send(topic, key, value)
    producer.flush(10)


@pytest.mark.kafka
def test_roundtrip_keeps_keys_headers_and_per_key_partition(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    topic = kafka_topics.articles
    for n in range(6):
        key = "bbc-" + ("á" if n % 2 else "b")  # non-ASCII key: sent and read back as UTF-8
        producer.send(topic, key, f"article {n}".encode(), {"schema": b"article/1", "n": b"%d" % n})
    producer.flush(10)
    consumer = bus.consumer([topic], kafka_topics.group("nlp"))
    try:
        records = poll_until(consumer, 6)
    finally:
        consumer.close()

    assert sorted(r.value for r in records) == [f"article {n}".encode() for n in range(6)]
    for record in records:
        n = int(record.headers["n"])
        assert record.headers["schema"] == b"article/1"
        assert record.key == "bbc-" + ("á" if n % 2 else "b")
        assert record.topic == topic
        assert record.timestamp_ms is not None
    partitions_per_key = {r.key: {x.partition for x in records if x.key == r.key} for r in records}
    assert all(len(partitions) == 1 for partitions in partitions_per_key.values())


@pytest.mark.kafka
def test_only_committed_records_are_skipped_by_the_next_member(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    topic, group = kafka_topics.articles, kafka_topics.group("nlp")
    publish(producer, topic, "one-key", [b"a", b"b", b"c", b"d"])

    first = bus.consumer([topic], group)
    seen = poll_until(first, 4)
    assert [r.value for r in seen] == [b"a", b"b", b"c", b"d"]
    first.commit(seen[:2])  # a and b handled; c and d were read but not handled
    first.close()

    second = bus.consumer([topic], group)
    try:
        again = poll_until(second, 2)
        assert [r.value for r in again] == [b"c", b"d"]
        assert [r.offset for r in again] == [seen[2].offset, seen[3].offset]
        second.commit(again)
    finally:
        second.close()

    third = bus.consumer([topic], group)
    try:
        publish(producer, topic, "one-key", [b"e"])
        assert [r.value for r in poll_until(third, 1)] == [b"e"]
    finally:
        third.close()


@pytest.mark.kafka
def test_a_consumer_polled_without_waiting_still_joins_and_reads(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    """The delivery engine polls "without waiting" while it has alerts in hand.
    Passed through, such polls left kafka-python 3.0 half-way through a group join
    for good (no partitions, no error): the delivery stall of docs/reliability.md."""
    topic, group = kafka_topics.alerts, kafka_topics.group("delivery")
    publish(producer, topic, "k", [b"a", b"b", b"c"])
    consumer = bus.consumer([topic], group)
    try:
        records: list[Record] = []
        # 60 s: a group join on a loaded CI machine can take several seconds; the
        # defect this guards against never joined at all.
        deadline = time.monotonic() + 60
        while len(records) < 3 and time.monotonic() < deadline:
            records.extend(consumer.poll(0.0))
        assert [r.value for r in records] == [b"a", b"b", b"c"]
    finally:
        consumer.close()


@pytest.mark.kafka
def test_commit_of_nothing_is_a_no_op(bus: KafkaBus, kafka_topics: KafkaTopics) -> None:
    consumer = bus.consumer([kafka_topics.articles], kafka_topics.group("nlp"))
    try:
        consumer.commit([])
        assert consumer.poll(0.5) == []
    finally:
        consumer.close()


@pytest.mark.kafka
def test_seek_back_rereads_from_the_record(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    topic = kafka_topics.statements
    publish(producer, topic, "k", [b"s0", b"s1", b"s2"])
    consumer = bus.consumer([topic], kafka_topics.group("alerts"))
    try:
        records = poll_until(consumer, 3)
        assert [r.value for r in records] == [b"s0", b"s1", b"s2"]
        consumer.seek_back(records[1])
        assert [r.value for r in poll_until(consumer, 2)] == [b"s1", b"s2"]
    finally:
        consumer.close()


@pytest.mark.kafka
def test_seek_back_on_a_partition_not_held_is_ignored(
    bus: KafkaBus, kafka_topics: KafkaTopics
) -> None:
    consumer = bus.consumer([kafka_topics.statements], kafka_topics.group("alerts"))
    try:
        stranger = Record(topic=kafka_topics.alerts, partition=0, offset=5, key=None, value=b"")
        consumer.seek_back(stranger)
        assert consumer.poll(0.5) == []
    finally:
        consumer.close()


def _wait_for_split(members: Sequence[Consumer], partitions: int) -> list[set[tuple[str, int]]]:
    """Poll every member until each holds partitions and together they hold all of them."""
    held: list[set[tuple[str, int]]] = [set() for _ in members]
    for _ in range(MAX_POLLS):
        for member in members:
            assert member.poll(0.2) == []  # nothing published yet
        held = [set(member.lag()) for member in members]
        if all(held) and sum(len(h) for h in held) == partitions:
            break
    return held


@pytest.mark.kafka
def test_two_members_of_a_group_split_the_partitions(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    topic, group = kafka_topics.articles, kafka_topics.group("nlp")
    members = [bus.consumer([topic], group), bus.consumer([topic], group)]
    try:
        held = _wait_for_split(members, partitions=3)
        assert all(held), held
        assert held[0].isdisjoint(held[1])
        assert held[0] | held[1] == {(topic, p) for p in range(3)}

        for n in range(30):
            producer.send(topic, f"feed-{n}", b"%d" % n)
        producer.flush(10)
        received: list[list[Record]] = [[], []]
        for _ in range(MAX_POLLS):
            if sum(len(r) for r in received) >= 30:
                break
            for member, got in zip(members, received, strict=True):
                got.extend(member.poll(0.2))
    finally:
        for member in members:
            member.close()

    values = sorted(int(r.value) for got in received for r in got)
    assert values == list(range(30))  # every record once, none twice
    for member_held, got in zip(held, received, strict=True):
        assert {(r.topic, r.partition) for r in got} <= member_held


@pytest.mark.kafka
def test_lag_counts_records_not_yet_consumed_per_partition(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    topic = kafka_topics.alerts
    publish(producer, topic, "same-key", [b"1", b"2", b"3", b"4", b"5"])
    consumer = bus.consumer([topic], kafka_topics.group("webhook"))
    try:
        first_two = poll_until(consumer, 2, max_records=2)
        assert len(first_two) == 2
        busy = (topic, first_two[0].partition)
        lag = consumer.lag()
        assert lag[busy] == 3
        assert set(lag) == {(topic, p) for p in range(3)}
        assert all(v == 0 for part, v in lag.items() if part != busy)
        poll_until(consumer, 3)
        assert consumer.lag()[busy] == 0
    finally:
        consumer.close()


@pytest.mark.kafka
def test_producer_is_idempotent_with_a_broker_assigned_id(
    bus: KafkaBus, kafka_topics: KafkaTopics
) -> None:
    producer = bus.producer()
    try:
        assert producer.idempotent
        assert producer.producer_id is None
        publish(producer, kafka_topics.articles, "k", [b"x"])
        assert producer.producer_id is not None and producer.producer_id >= 0
    finally:
        producer.close()


@pytest.mark.kafka
def test_oversized_record_is_a_permanent_error(bus: KafkaBus, kafka_topics: KafkaTopics) -> None:
    producer = bus.producer()
    try:
        with pytest.raises(KafkaPermanent, match=r"^kafka: sending to monitor\.articles\."):
            producer.send(kafka_topics.articles, "k", b"x" * 2_000_000)
    finally:
        producer.close()


@pytest.mark.kafka
def test_ensure_topics_is_idempotent_and_uses_configured_partitions(
    bus: KafkaBus, kafka_topics: KafkaTopics
) -> None:
    bus.ensure_topics(kafka_topics.all)  # the fixture created them already
    fresh = f"monitor.extra.{kafka_topics.suffix}"
    bus.ensure_topics([fresh])
    consumer = bus.consumer([fresh], kafka_topics.group("probe"))
    try:
        for _ in range(MAX_POLLS):
            consumer.poll(0.2)
            if consumer.lag():
                break
        assert consumer.lag() == {(fresh, p): 0 for p in range(3)}
    finally:
        consumer.close()


@pytest.mark.kafka
def test_invalid_topic_name_is_a_permanent_error(bus: KafkaBus) -> None:
    with pytest.raises(KafkaPermanent, match=r"^kafka: creating topics monitor articles!"):
        bus.ensure_topics(["monitor articles!"])


def test_unreachable_broker_fails_with_one_line_after_bounded_attempts() -> None:
    pauses: list[float] = []
    settings = KafkaSettings(
        bootstrap_servers=("127.0.0.1:1",),
        bootstrap_timeout_ms=500,
        connect_attempts=3,
        connect_backoff_ms=100,
    )
    bus = KafkaBus(settings, sleep=pauses.append)
    for open_client in (
        bus.producer,
        lambda: bus.consumer(["t"], "g"),
        lambda: bus.ensure_topics(["t"]),
    ):
        with pytest.raises(BrokerUnavailable) as caught:
            open_client()
        message = str(caught.value)
        assert message == "kafka: no broker answered at 127.0.0.1:1 within 1.7 s (3 attempts)"
        assert caught.value.kind == "retryable"
    assert pauses == [0.1, 0.1] * 3


def test_default_settings_give_up_within_a_few_seconds() -> None:
    assert KafkaSettings().connect_budget_s <= 6


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (kafka_errors.KafkaConnectionError("refused"), BrokerUnavailable),
        (kafka_errors.KafkaTimeoutError("no metadata"), KafkaRetryable),
        (kafka_errors.CommitFailedError(), KafkaRetryable),
        (kafka_errors.NotLeaderForPartitionError(), KafkaRetryable),
        (ConnectionResetError("reset by peer"), BrokerUnavailable),
        (kafka_errors.TopicAuthorizationFailedError(), KafkaPermanent),
        (kafka_errors.SaslAuthenticationFailedError(), KafkaPermanent),
        (kafka_errors.KafkaConfigurationError("bad"), KafkaPermanent),
        (ValueError("Unrecognized configs"), KafkaPermanent),
    ],
)
def test_kafka_failures_are_sorted_into_the_monitor_tree(
    failure: Exception, expected: type[Exception]
) -> None:
    translated = translate(failure, "polling")
    assert type(translated) is expected
    assert str(translated).startswith("kafka: polling failed: ")
    assert "\n" not in str(translated)


def _free_port_pair() -> int:
    """A loopback port whose successor is free too (kafka-local puts its controller there)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as neighbour:
            try:
                neighbour.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no free pair of loopback ports")


def _kafka_local(action: str, port: int) -> str:
    done = subprocess.run(
        [str(KAFKA_LOCAL), action],
        env=os.environ | {"KAFKA_LOCAL_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=KAFKA_LOCAL_START_LIMIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def private_broker() -> Iterator[int]:
    """A broker of this test's own (kafka-local on a free port), so it can be stopped."""
    port = _free_port_pair()
    _kafka_local("start", port)
    try:
        yield port
    finally:
        _kafka_local("stop", port)


@pytest.mark.kafka
def test_broker_outage_is_retryable_and_clients_carry_on_after_restart(
    private_broker: int,
) -> None:
    """Needs Java + Maven (kafka-local), like CI; the shared broker is left alone."""
    settings = KafkaSettings(bootstrap_servers=(f"127.0.0.1:{private_broker}",))
    bus = KafkaBus(settings)
    topic = f"monitor.outage.{uuid.uuid4().hex[:8]}"
    bus.ensure_topics([topic])
    bus.close()
    producer = bus.producer()
    consumer = bus.consumer([topic], "monitor.outage")
    try:
        publish(producer, topic, "k", [b"before"])
        before = poll_until(consumer, 1)
        assert [r.value for r in before] == [b"before"]
        consumer.commit(before)

        assert KafkaBus(settings).reachable()
        _kafka_local("stop", private_broker)
        assert not KafkaBus(settings).reachable()  # what /readyz reports
        producer.send(topic, "k", b"during")
        with pytest.raises(RetryableError):
            producer.flush(2)

        _kafka_local("start", private_broker)
        publish(producer, topic, "k", [b"after"])
        values = [r.value for r in poll_until(consumer, 2)]
        assert values[-1] == b"after"
        assert set(values) <= {b"during", b"after"}
    finally:
        consumer.close()
        producer.close()


class Noted:
    """An assignment listener that writes down what it hears."""

    def __init__(self) -> None:
        self.assigned_to: list[tuple[str, int]] = []

    def assigned(self, partitions: Sequence[tuple[str, int]]) -> None:
        self.assigned_to.extend(partitions)

    def revoked(self, partitions: Sequence[tuple[str, int]]) -> None:
        for tp in partitions:
            self.assigned_to.remove(tp)


@pytest.mark.kafka
def test_a_compacted_table_is_read_from_the_start_with_its_tombstones(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    topic = kafka_topics.feeds  # exists already, not compacted: ensure makes it so
    bus.ensure_compacted_topic(topic)
    bus.ensure_compacted_topic(topic)
    assert _cleanup_policy(bus, topic) == "compact"
    producer.send(topic, "a", b"1")
    producer.tombstone(topic, "a")
    producer.send(topic, "b", b"2")
    producer.flush(10)
    # Committed offsets would not matter: a table reader starts at the first record.
    group = kafka_topics.group("pollers")
    member = bus.consumer([topic], group)
    member.commit(poll_until(member, 3))
    member.close()

    heard = Noted()
    reader = bus.table_reader(topic, group, heard)
    try:
        records: list[Record] = []
        for _ in range(MAX_POLLS):
            records.extend(reader.poll(0.5))
            if heard.assigned_to and reader.caught_up():
                break
        assert sorted(heard.assigned_to) == [(topic, p) for p in range(3)]
        assert reader.caught_up()
    finally:
        reader.close()
    read = [(r.key, r.value, r.tombstone) for r in records]
    assert sorted(read) == [("a", b"", True), ("a", b"1", False), ("b", b"2", False)]
    everything = [(r.key, r.tombstone) for r in bus.read_all(topic, 30.0)]
    assert sorted(everything) == [("a", False), ("a", True), ("b", False)]


def _cleanup_policy(bus: KafkaBus, topic: str) -> str | None:
    """The topic's cleanup.policy as the broker describes it, waiting for the
    change to reach the broker's metadata (at most MAX_POLLS tries)."""
    admin = KafkaAdminClient(**bus.settings.client_config())
    try:
        for _ in range(MAX_POLLS):
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            policy = described["topic"][topic].get("cleanup.policy")
            if policy is not None and policy["value"] == "compact":
                break
            time.sleep(0.5)
    finally:
        admin.close()
    return None if policy is None else str(policy["value"])


@pytest.mark.kafka
def test_a_record_sent_to_a_partition_is_read_back_from_that_partition_alone(
    bus: KafkaBus, producer: Producer, kafka_topics: KafkaTopics
) -> None:
    topic = kafka_topics.alerts_state
    bus.ensure_compacted_topic(topic)
    for n in range(3):
        producer.send(topic, f"key-{n}", b"%d" % n, partition=2)
    producer.tombstone(topic, "key-0", partition=2)
    producer.flush(10)
    records = bus.read_partition(topic, 2, 30)
    assert [(r.key, r.tombstone) for r in records] == [
        ("key-0", False), ("key-1", False), ("key-2", False), ("key-0", True)]
    assert bus.read_partition(topic, 0, 30) == []
    assert bus.read_partition(topic, 9, 30) == []  # no such partition


@pytest.mark.kafka
def test_a_consumer_tells_its_listener_what_it_gains_and_loses(
    bus: KafkaBus, kafka_topics: KafkaTopics
) -> None:
    topic, group = kafka_topics.alerts_candidates, kafka_topics.group("stories")
    heard = _Noted()
    first = bus.consumer([topic], group, heard)
    try:
        for _ in range(MAX_POLLS):
            first.poll(0.5)
            if heard.held == {0, 1, 2}:
                break
        assert heard.held == {0, 1, 2}
        second = bus.consumer([topic], group)
        try:
            for _ in range(MAX_POLLS):
                first.poll(0.2)
                second.poll(0.2)
                if len(heard.held) < 3 and heard.held:
                    break
            assert heard.held and len(heard.held) < 3
        finally:
            second.close()
        for _ in range(MAX_POLLS):
            first.poll(0.5)
            if heard.held == {0, 1, 2}:
                break
        assert heard.held == {0, 1, 2}
    finally:
        first.close()


class _Noted:
    """An assignment listener that keeps the partitions it was told are held."""

    def __init__(self) -> None:
        self.held: set[int] = set()

    def assigned(self, partitions: Sequence[tuple[str, int]]) -> None:
        self.held |= {p for _, p in partitions}

    def revoked(self, partitions: Sequence[tuple[str, int]]) -> None:
        self.held -= {p for _, p in partitions}


@pytest.mark.kafka
def test_the_process_reading_partition_0_of_one_group_reads_it_and_no_more_in_the_others(
    kafka_settings: KafkaSettings, kafka_topics: KafkaTopics
) -> None:
    """Two processes (a bus each), each a member of two groups, on 3-partition topics:
    ranked ranges give one process partition 0 and no other partition in both groups
    (where the story decisions run, the least other work), the other process the rest."""
    processes = [KafkaBus(kafka_settings), KafkaBus(kafka_settings)]
    groups = {kafka_topics.group("stories"): kafka_topics.alerts_candidates,
              kafka_topics.group("alerts"): kafka_topics.statements}
    members = {group: [p.consumer([topic], group) for p in processes]
               for group, topic in groups.items()}
    try:
        held = {group: _wait_for_split(pair, partitions=3) for group, pair in members.items()}
    finally:
        for pair in members.values():
            for member in pair:
                member.close()
        for process in processes:
            process.close()
    splits = [[sorted(p for _, p in got) for got in by_process] for by_process in held.values()]
    assert splits[0] == splits[1], held  # each process has the same place in both groups
    assert sorted(splits[0]) == [[0], [1, 2]], held
