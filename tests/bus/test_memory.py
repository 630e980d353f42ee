"""The in-process bus keeps Kafka's semantics that stages rely on."""

from __future__ import annotations

import threading

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
