"""The in-process bus keeps Kafka's semantics that stages rely on."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from monitor.bus.memory import MemoryBus


def test_records_are_read_in_order_and_keep_key_and_headers() -> None:
    bus = MemoryBus()
    producer = bus.producer()
    producer.send("t", "k1", b"one", {"h": b"v"})
    producer.send("t", "k1", b"two")
    records = bus.consumer(["t"], "g").poll(0.1)
    assert [r.value for r in records] == [b"one", b"two"]
    assert records[0].key == "k1" and records[0].headers == {"h": b"v"}


def test_uncommitted_records_are_read_again_by_the_next_member() -> None:
    bus = MemoryBus()
    for i in range(3):
        bus.producer().send("t", None, str(i).encode())
    first = bus.consumer(["t"], "g")
    records = first.poll(0.1)
    first.commit(records[:1])
    first.close()
    again = bus.consumer(["t"], "g").poll(0.1)
    assert [r.value for r in again] == [b"1", b"2"]


def test_groups_read_independently() -> None:
    bus = MemoryBus()
    bus.producer().send("t", None, b"x")
    assert len(bus.consumer(["t"], "a").poll(0.1)) == 1
    assert len(bus.consumer(["t"], "b").poll(0.1)) == 1


def test_members_of_a_group_split_partitions_by_key() -> None:
    bus = MemoryBus(partitions=4)
    one, two = bus.consumer(["t"], "g"), bus.consumer(["t"], "g")
    for i in range(40):
        bus.producer().send("t", f"key-{i}", b"v")
    got_one, got_two = one.poll(0.1), two.poll(0.1)
    assert len(got_one) + len(got_two) == 40
    assert got_one and got_two
    assert not {(r.partition, r.offset) for r in got_one} & {
        (r.partition, r.offset) for r in got_two
    }


def test_seek_back_rereads_from_the_record() -> None:
    bus = MemoryBus()
    for value in (b"a", b"b"):
        bus.producer().send("t", None, value)
    consumer = bus.consumer(["t"], "g")
    records = consumer.poll(0.1)
    consumer.seek_back(records[1])
    assert [r.value for r in consumer.poll(0.1)] == [b"b"]


def test_lag_counts_unconsumed_records() -> None:
    bus = MemoryBus()
    consumer = bus.consumer(["t"], "g")
    for _ in range(5):
        bus.producer().send("t", None, b"v")
    assert consumer.lag() == {("t", 0): 5}
    consumer.poll(0.1, max_records=2)
    assert consumer.lag() == {("t", 0): 3}


def test_poll_wakes_up_when_a_record_arrives() -> None:
    bus = MemoryBus()
    consumer = bus.consumer(["t"], "g")
    timer = threading.Timer(0.05, lambda: bus.producer().send("t", None, b"late"))
    timer.start()
    records = consumer.poll(5.0)
    timer.join()
    assert [r.value for r in records] == [b"late"]


class Noted:
    """An assignment listener that writes down what it hears."""

    def __init__(self) -> None:
        self.events: list[tuple[str, list[tuple[str, int]]]] = []

    def assigned(self, partitions: Sequence[tuple[str, int]]) -> None:
        self.events.append(("assigned", sorted(partitions)))

    def revoked(self, partitions: Sequence[tuple[str, int]]) -> None:
        self.events.append(("revoked", sorted(partitions)))


def test_a_tombstone_is_read_back_as_one() -> None:
    bus = MemoryBus()
    producer = bus.producer()
    producer.send("t", "k", b"v")
    producer.tombstone("t", "k")
    records = bus.read_all("t", 1.0)
    assert [(r.key, r.value, r.tombstone) for r in records] == [
        ("k", b"v", False), ("k", b"", True)
    ]


def test_a_table_reader_reads_its_partitions_from_the_start_on_every_assignment() -> None:
    bus = MemoryBus(partitions=2)
    for i in range(6):
        bus.producer().send("t", f"k{i}", b"v")
    heard = Noted()
    first = bus.table_reader("t", "g", heard)
    first.commit(first.poll(0.0))  # a commit changes nothing for a table
    assert heard.events == [("assigned", [("t", 0), ("t", 1)])]
    assert first.caught_up()
    second = bus.table_reader("t", "g", Noted())
    assert len(second.poll(0.0)) > 0
    first.poll(0.0)
    assert heard.events[-1][0] == "revoked" and len(heard.events[-1][1]) == 1
    second.close()
    again = first.poll(0.0)
    assert heard.events[-1][0] == "assigned"
    assert {r.partition for r in again} == {heard.events[-1][1][0][1]}
    assert [r.offset for r in again][:1] == [0]


def test_a_table_reader_is_caught_up_once_it_read_what_was_there_when_assigned() -> None:
    bus = MemoryBus()
    for i in range(3):
        bus.producer().send("t", None, str(i).encode())
    reader = bus.table_reader("t", "g", Noted())
    assert len(reader.poll(0.0, max_records=2)) == 2
    assert not reader.caught_up()
    bus.producer().send("t", None, b"later")  # written after the assignment
    assert len(reader.poll(0.0, max_records=1)) == 1
    assert reader.caught_up()


def test_read_all_joins_no_group_and_ensure_compacted_topic_creates_it() -> None:
    bus = MemoryBus(partitions=3)
    bus.ensure_compacted_topic("table")
    assert bus.read_all("table", 1.0) == []
    bus.producer().send("table", "k", b"v")
    member = bus.consumer(["table"], "g")
    assert len(bus.read_all("table", 1.0)) == 1
    assert len(member.poll(0.0)) == 1  # the group's position is untouched


def test_a_record_sent_to_a_partition_lands_there_and_is_read_back_alone() -> None:
    bus = MemoryBus(partitions=3)
    producer = bus.producer()
    for n in range(4):
        producer.send("state", f"key-{n}", b"%d" % n, partition=2)
    producer.tombstone("state", "key-0", partition=2)
    assert bus.read_partition("state", 0, 1.0) == []
    records = bus.read_partition("state", 2, 1.0)
    assert [r.key for r in records] == ["key-0", "key-1", "key-2", "key-3", "key-0"]
    assert [r.tombstone for r in records] == [False] * 4 + [True]
    assert bus.read_partition("state", 7, 1.0) == []


def test_a_consumer_tells_its_listener_what_it_gains_and_loses() -> None:
    bus = MemoryBus(partitions=2)
    heard = Noted()
    first = bus.consumer(["t"], "g", heard)
    first.poll(0.0)
    assert heard.events == [("assigned", [("t", 0), ("t", 1)])]
    second = bus.consumer(["t"], "g")
    second.poll(0.0)
    first.poll(0.0)
    assert heard.events[-1] == ("revoked", [("t", 1)])
    second.close()
    first.poll(0.0)
    assert heard.events[-1] == ("assigned", [("t", 1)])


def test_compacted_topics_in_a_data_folder_survive_the_bus(tmp_path: Path) -> None:
    bus = MemoryBus(partitions=2, data_dir=tmp_path)
    bus.ensure_compacted_topic("state")
    producer = bus.producer()
    producer.send("state", "a", b"1", partition=1)
    producer.send("state", "b", b"2", partition=1)
    producer.send("state", "a", b"3", partition=1)
    producer.tombstone("state", "b", partition=1)
    producer.send("plain", "a", b"not kept")
    bus.close()
    again = MemoryBus(partitions=2, data_dir=tmp_path)
    again.ensure_compacted_topic("state")
    again.ensure_compacted_topic("state")  # declared twice: read back once
    assert [(r.key, r.value) for r in again.read_partition("state", 1, 1.0)] == [("a", b"3")]
    assert again.records_in("plain") == []
    again.close()


def test_a_kept_topic_is_read_back_after_every_topic_was_created(tmp_path: Path) -> None:
    """As the daemon opens the bus: ``open_bus`` creates every topic (empty) before a
    stage declares its changelog compacted; what the folder kept still comes back."""
    bus = MemoryBus(data_dir=tmp_path)
    bus.ensure_compacted_topic("state")
    bus.producer().send("state", "a", b"1")
    bus.close()
    again = MemoryBus(data_dir=tmp_path)
    again.ensure_topics(["state", "plain"])
    again.ensure_compacted_topic("state")
    assert [(r.key, r.value) for r in again.records_in("state")] == [("a", b"1")]
    again.close()
