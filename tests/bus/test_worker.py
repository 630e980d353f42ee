"""The stage loop: commit after handling, dead-letter poison, rewind on retryable."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.bus.base import Producer, Record
from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus
from monitor.bus.worker import Outgoing, StageWorker
from monitor.clock import FrozenClock
from monitor.errors import PermanentError, PoisonError, RetryableError
from monitor.messages import Article, DeadLetter, Source
from monitor.ops.metrics import Metrics


def article(i: int) -> Article:
    return Article(
        id=f"a{i}",
        url=f"https://news.example/{i}",
        title=f"T{i}",
        text="Body.",
        text_source="content",
        feed_id="f",
        sources=(Source("f", "https://news.example/feed"),),
        fetched_at="2024-08-06T09:00:00Z",
    )


class Echo:
    """A handler that republishes articles, failing on command."""

    def __init__(self) -> None:
        self.fail_retryable: set[str] = set()
        self.fail_poison: set[str] = set()
        self.crash: set[str] = set()

    def __call__(self, message: Article) -> Iterator[Outgoing]:
        if message.id in self.fail_retryable:
            self.fail_retryable.discard(message.id)
            raise RetryableError("peer busy", retry_after=0.0)
        if message.id in self.fail_poison:
            raise PoisonError(f"article {message.id}: cannot be tagged")
        if message.id in self.crash:
            raise ZeroDivisionError("bug")
        yield Outgoing("out", message.id, message)


def make_worker(
    bus: MemoryBus, handler: Echo, metrics: Metrics, producer: Producer | None = None
) -> StageWorker[Article]:
    return StageWorker(
        stage="test",
        consumer=bus.consumer(["in"], "g"),
        producer=producer or bus.producer(),
        kind=Article,
        handle=handler,
        deadletter_topic="dead",
        metrics=metrics,
        clock=FrozenClock(),
        poll_timeout_s=0.05,
    )


def test_handled_records_are_published_and_committed() -> None:
    bus, metrics = MemoryBus(), Metrics()
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    worker = make_worker(bus, Echo(), metrics)
    assert worker.drain(idle_s=0.05) == 3
    assert [decode(r.value, Article).id for r in bus.records_in("out")] == ["a0", "a1", "a2"]
    worker.close()
    assert bus.consumer(["in"], "g").poll(0.05) == []  # all committed


def test_undecodable_and_poison_records_are_dead_lettered_and_the_stream_goes_on() -> None:
    bus, metrics, handler = MemoryBus(), Metrics(), Echo()
    handler.fail_poison.add("a1")
    handler.crash.add("a2")
    bus.producer().send("in", "junk", b"\x00not json")
    for i in range(4):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    make_worker(bus, handler, metrics).drain(idle_s=0.05)
    letters = [decode(r.value, DeadLetter) for r in bus.records_in("dead")]
    assert [(d.key, d.error_kind) for d in letters] == [
        ("junk", "poison"),
        ("a1", "poison"),
        ("a2", "poison"),
    ]
    assert "cannot be tagged" in letters[1].reason
    assert letters[2].reason.startswith("internal: ZeroDivisionError")
    assert [decode(r.value, Article).id for r in bus.records_in("out")] == ["a0", "a3"]
    assert metrics.messages.labels("test", "deadletter")._value.get() == 3


def test_retryable_failure_rewinds_and_the_record_is_handled_later() -> None:
    bus, metrics, handler = MemoryBus(), Metrics(), Echo()
    handler.fail_retryable.add("a1")
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    worker = make_worker(bus, handler, metrics)
    assert worker.run_once() == 1  # a0 settled, stopped at a1
    assert 0.0 <= worker.pause_s <= 0.5  # jittered, within the first backoff step
    worker.drain(idle_s=0.05)
    assert [decode(r.value, Article).id for r in bus.records_in("out")] == ["a0", "a1", "a2"]
    assert bus.records_in("dead") == []
    assert metrics.messages.labels("test", "retry")._value.get() == 1


def test_a_crash_before_commit_means_the_record_is_read_again() -> None:
    bus, metrics = MemoryBus(), Metrics()
    bus.producer().send("in", "a0", encode(article(0)))
    consumer = bus.consumer(["in"], "g")
    assert len(consumer.poll(0.05)) == 1
    consumer.close()  # died without committing
    assert make_worker(bus, Echo(), metrics).drain(idle_s=0.05) == 1


def test_a_retryable_failure_rewinds_every_partition_in_the_batch() -> None:
    bus, metrics, handler = MemoryBus(partitions=4), Metrics(), Echo()
    ids = [f"a{i}" for i in range(12)]
    for i, key in enumerate(ids):
        bus.producer().send("in", key, encode(article(i)))
    handler.fail_retryable.add("a0")  # fails once, wherever it lands in the batch
    worker = make_worker(bus, handler, metrics)
    worker.drain(idle_s=0.05)
    published = sorted(decode(r.value, Article).id for r in bus.records_in("out"))
    assert published == sorted(ids)  # nothing after the failure was skipped


class FailingFlush:
    """A producer whose first flush fails as a broker outage would."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.failures = 1

    def send(self, topic: str, key: str | None, value: bytes, headers: object = None,
             partition: int | None = None) -> None:
        self.inner.send(topic, key, value, partition=partition)  # type: ignore[attr-defined]

    def flush(self, timeout_s: float | None = None) -> None:
        if self.failures:
            self.failures -= 1
            raise RetryableError("broker went away", retry_after=0.0)

    def close(self) -> None:
        return None


def test_a_failed_flush_rereads_the_batch_instead_of_committing_it() -> None:
    bus, metrics = MemoryBus(), Metrics()
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    worker = make_worker(bus, Echo(), metrics, FailingFlush(bus.producer()))  # type: ignore[arg-type]
    assert worker.run_once() == 0
    worker.drain(idle_s=0.05)
    ids = [decode(r.value, Article).id for r in bus.records_in("out")]
    assert sorted(set(ids)) == ["a0", "a1", "a2"]  # at least once; the first try is repeated


class RefusingProducer(FailingFlush):
    """A producer that refuses one topic's records as a broker refuses oversized ones."""

    def send(self, topic: str, key: str | None, value: bytes, headers: object = None,
             partition: int | None = None) -> None:
        if topic == "out" and key == "a1":
            raise PermanentError(f"record of {len(value)} bytes is larger than the broker accepts")
        self.inner.send(topic, key, value, partition=partition)  # type: ignore[attr-defined]

    def flush(self, timeout_s: float | None = None) -> None:
        return None


def test_an_output_the_bus_refuses_dead_letters_its_input_and_the_stream_goes_on() -> None:
    bus, metrics = MemoryBus(), Metrics()
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    worker = make_worker(bus, Echo(), metrics, RefusingProducer(bus.producer()))  # type: ignore[arg-type]
    assert worker.drain(idle_s=0.05) == 3
    assert [decode(r.value, Article).id for r in bus.records_in("out")] == ["a0", "a2"]
    letters = [decode(r.value, DeadLetter) for r in bus.records_in("dead")]
    assert [(d.key, d.error_kind) for d in letters] == [("a1", "permanent")]
    assert letters[0].reason.startswith("output refused: record of")


def test_settle_sees_the_settled_records_after_the_flush_and_rewound_follows_a_retry() -> None:
    """The hooks of a stage whose state must follow its outputs: ``settle`` gets the
    records settled before the failure, then ``rewound`` says the rest come again."""
    bus, metrics, handler = MemoryBus(), Metrics(), Echo()
    handler.fail_retryable.add("a1")
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    events: list[str] = []
    worker = StageWorker(
        stage="test", consumer=bus.consumer(["in"], "g"), producer=bus.producer(),
        kind=Article, handle=handler, deadletter_topic="dead", metrics=metrics,
        clock=FrozenClock(), poll_timeout_s=0.05,
        settle=lambda records: events.append("settle " + ",".join(r.key or "" for r in records)),
        rewound=lambda: events.append("rewound"),
    )
    assert worker.run_once() == 1
    assert events == ["settle a0", "rewound"]
    worker.drain(idle_s=0.05)
    assert events == ["settle a0", "rewound", "settle a1,a2"]


def test_prepare_sees_the_batch_decoded_before_any_handling_and_handlers_get_the_same_messages(
) -> None:
    """A stage that does a batch's work at once is given the decodable records with
    their messages first; the handler then gets those messages (decoded once), and an
    undecodable record is still dead-lettered in its turn."""
    bus, metrics = MemoryBus(), Metrics()
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    bus.producer().send("in", "junk", b"{not json")
    events: list[str] = []
    prepared: dict[str, Article] = {}

    def prepare(batch: Sequence[tuple[Record, Article]]) -> None:
        events.append("prepare " + ",".join(record.key or "" for record, _ in batch))
        prepared.update((message.id, message) for _, message in batch)

    def handle(message: Article) -> Iterator[Outgoing]:
        events.append(f"handle {message.id}")
        assert prepared[message.id] is message
        yield Outgoing("out", message.id, message)

    worker = StageWorker(
        stage="test", consumer=bus.consumer(["in"], "g"), producer=bus.producer(),
        kind=Article, handle=handle, deadletter_topic="dead", metrics=metrics,
        clock=FrozenClock(), poll_timeout_s=0.05, prepare=prepare,
    )
    worker.drain(idle_s=0.05)
    assert events == ["prepare a0,a1,a2", "handle a0", "handle a1", "handle a2"]
    assert [r.key for r in bus.read_partition("out", 0, 0.1)] == ["a0", "a1", "a2"]
    assert [r.key for r in bus.read_partition("dead", 0, 0.1)] == ["junk"]


def test_a_failing_prepare_is_logged_and_the_batch_is_handled_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus, metrics = MemoryBus(), Metrics()
    bus.producer().send("in", "a0", encode(article(0)))

    def prepare(batch: Sequence[tuple[Record, Article]]) -> None:
        raise ValueError("bug in an optimisation")

    worker = StageWorker(
        stage="test", consumer=bus.consumer(["in"], "g"), producer=bus.producer(),
        kind=Article, handle=Echo(), deadletter_topic="dead", metrics=metrics,
        clock=FrozenClock(), poll_timeout_s=0.05, prepare=prepare,
    )
    assert worker.drain(idle_s=0.05) == 1
    assert [r.key for r in bus.read_partition("out", 0, 0.1)] == ["a0"]
    assert "preparing a batch failed" in caplog.text


# -- overlap: the next batch is read while this one is acknowledged -----------------
class Recorded:
    """A producer and a consumer that log what the worker asks of them, in order,
    and a consumer that hands out at most ``batch`` records per poll."""

    def __init__(self, bus: MemoryBus, batch: int, fail_flush_at: int | None = None) -> None:
        self.events: list[tuple[str, str]] = []
        self.inner_producer = bus.producer()
        self.inner_consumer = bus.consumer(["in"], "g")
        self.batch = batch
        self.flushes = 0
        self.fail_flush_at = fail_flush_at

    # Producer
    def send(self, topic: str, key: str | None, value: bytes, headers: object = None,
             partition: int | None = None) -> None:
        self.events.append((f"send {topic}", key or ""))
        self.inner_producer.send(topic, key, value, partition=partition)

    def tombstone(self, topic: str, key: str, partition: int | None = None) -> None:
        raise AssertionError("not used")

    def flush(self, timeout_s: float | None = None) -> None:
        self.flushes += 1
        if self.flushes == self.fail_flush_at:
            raise RetryableError("broker went away", retry_after=0.0)
        self.events.append(("flush", ""))

    # Consumer
    def poll(self, timeout_s: float, max_records: int = 500) -> Sequence[Record]:
        return self.inner_consumer.poll(timeout_s, min(max_records, self.batch))

    def commit(self, records: Sequence[Record]) -> None:
        self.events.extend(("commit", r.key or "") for r in records)
        self.inner_consumer.commit(records)

    def seek_back(self, record: Record) -> None:
        self.inner_consumer.seek_back(record)

    def lag(self) -> dict[tuple[str, int], int]:
        return self.inner_consumer.lag()

    def close(self) -> None:
        self.inner_consumer.close()

    def index(self, event: tuple[str, str], after: int = -1) -> int:
        return self.events.index(event, after + 1)

    def flush_between(self, start: int, end: int) -> bool:
        return ("flush", "") in self.events[start + 1:end]


def overlapped_worker(recorded: Recorded, handler: Echo, events: list[str] | None = None
                      ) -> StageWorker[Article]:
    """A stage with ``overlap`` whose settle hook sends each record's change to a
    changelog, as the story decisions' does."""

    def settle(records: Sequence[Record]) -> None:
        for record in records:
            recorded.send("changes", record.key, b"{}")
        if events is not None:
            events.append("settle " + ",".join(r.key or "" for r in records))

    return StageWorker(
        stage="test", consumer=recorded, producer=recorded, kind=Article, handle=handler,
        deadletter_topic="dead", metrics=Metrics(), clock=FrozenClock(), poll_timeout_s=0.05,
        settle=settle, rewound=(lambda: events.append("rewound")) if events is not None else None,
        overlap=True,
    )


@settings(max_examples=25, deadline=None)
@given(count=st.integers(1, 12), batch=st.integers(1, 4))
def test_overlap_commits_a_record_only_after_its_outputs_and_then_its_changes_are_flushed(
    count: int, batch: int,
) -> None:
    """Whatever the batch size: a record's change is sent only after a flush that
    followed its output, and it is committed only after a flush that followed its
    change; the commit comes later than without overlap, and an empty poll brings it."""
    bus = MemoryBus()
    for i in range(count):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    recorded = Recorded(bus, batch)
    worker = overlapped_worker(recorded, Echo())
    handled = 0
    while (step := worker.run_once()) > 0:
        handled += step
    assert handled == count
    events = recorded.events
    for i in range(count):
        key = f"a{i}"
        output = recorded.index(("send out", key))
        change = recorded.index(("send changes", key))
        commit = recorded.index(("commit", key))
        assert output < change < commit
        assert recorded.flush_between(output, change)
        assert recorded.flush_between(change, commit)
    assert [key for name, key in events if name == "send out"] == [f"a{i}" for i in range(count)]
    assert sum(1 for name, _ in events if name == "commit") == count  # each once
    worker.close()
    assert bus.consumer(["in"], "g").poll(0.05) == []  # all committed


def test_overlap_keeps_records_uncommitted_until_two_batches_later() -> None:
    bus = MemoryBus()
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    recorded = Recorded(bus, batch=1)
    events: list[str] = []
    worker = overlapped_worker(recorded, Echo(), events)
    assert worker.run_once() == 1  # a0 handled: its output is sent, nothing settled
    assert events == [] and ("commit", "a0") not in recorded.events
    assert worker.run_once() == 1  # a1 read; a0's output flushed and its change sent
    assert events == ["settle a0"] and ("commit", "a0") not in recorded.events
    assert worker.run_once() == 1  # a2 read; a0's change flushed and a0 committed
    assert ("commit", "a0") in recorded.events and ("commit", "a1") not in recorded.events
    assert worker.run_once() == 0  # nothing more: everything in flight is settled
    assert events == ["settle a0", "settle a1", "settle a2"]
    assert [key for name, key in recorded.events if name == "commit"] == ["a0", "a1", "a2"]


def test_overlap_a_failed_flush_rewinds_everything_in_flight_and_nothing_is_lost() -> None:
    bus = MemoryBus()
    for i in range(4):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    recorded = Recorded(bus, batch=1, fail_flush_at=3)
    events: list[str] = []
    worker = overlapped_worker(recorded, Echo(), events)
    assert [worker.run_once() for _ in range(3)] == [1, 1, 0]  # the third step's flush fails
    assert events == ["settle a0", "rewound"]
    assert not any(name == "commit" for name, _ in recorded.events)  # a0's change unflushed
    while worker.run_once() > 0 or worker.pause_s:
        pass
    outputs = [key for name, key in recorded.events if name == "send out"]
    assert sorted(set(outputs)) == ["a0", "a1", "a2", "a3"]  # at least once: a0, a1 again
    assert [key for name, key in recorded.events if name == "commit"] == ["a0", "a1", "a2", "a3"]
    worker.close()
    assert bus.consumer(["in"], "g").poll(0.05) == []


def test_overlap_a_retryable_handler_failure_settles_what_was_handled_and_rewinds_the_rest(
) -> None:
    bus, handler = MemoryBus(), Echo()
    handler.fail_retryable.add("a3")
    for i in range(5):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    recorded = Recorded(bus, batch=2)
    events: list[str] = []
    worker = overlapped_worker(recorded, handler, events)
    assert worker.run_once() == 2  # a0, a1 in flight
    assert worker.run_once() == 1  # a2 handled, a3 failed: all in flight settled now
    assert events == ["settle a0,a1", "settle a2", "rewound"]
    assert [key for name, key in recorded.events if name == "commit"] == ["a0", "a1", "a2"]
    while worker.run_once() > 0 or worker.pause_s:
        pass
    assert [key for name, key in recorded.events if name == "send out"] == [
        "a0", "a1", "a2", "a3", "a4"]


def test_overlap_a_crash_with_records_in_flight_means_they_are_read_again() -> None:
    bus = MemoryBus()
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    recorded = Recorded(bus, batch=1)
    worker = overlapped_worker(recorded, Echo())
    assert [worker.run_once() for _ in range(3)] == [1, 1, 1]  # a0 committed, a1 and a2 not
    recorded.inner_consumer.close()  # died without settling
    again = Recorded(bus, batch=10)
    assert overlapped_worker(again, Echo()).run_once() == 2
    assert [key for name, key in again.events if name == "send out"] == ["a1", "a2"]


def test_overlap_the_end_of_run_settles_everything_in_flight() -> None:
    bus = MemoryBus()
    for i in range(2):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    recorded = Recorded(bus, batch=1)
    worker = overlapped_worker(recorded, Echo())
    stop = threading.Event()

    def handle_then_stop(message: Article) -> Iterator[Outgoing]:
        if message.id == "a1":
            stop.set()  # the run ends after this batch
        yield Outgoing("out", message.id, message)

    worker._handle = handle_then_stop
    worker.run(stop)
    assert [key for name, key in recorded.events if name == "commit"] == ["a0", "a1"]


def test_records_in_flight_when_partitions_are_taken_away_are_read_again_not_committed() -> None:
    """Their unsent changes went with the dropped state, and the broker would accept
    the commit anyway: committing them would lose those changes for good."""
    bus = MemoryBus()
    for i in range(3):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    recorded = Recorded(bus, batch=1)
    events: list[str] = []
    revocations = [0]
    worker = overlapped_worker(recorded, Echo(), events)
    worker._revocations = lambda: revocations[0]
    assert worker.run_once() == 1  # a0 in flight
    revocations[0] += 1  # a rebalance took the partition away (and gave it back)
    assert worker.run_once() == 0  # a1 read, but a0 is read again first
    assert events == ["rewound"] and not any(n == "commit" for n, _ in recorded.events)
    while worker.run_once() > 0:
        pass
    assert [key for name, key in recorded.events if name == "send out"] == [
        "a0", "a0", "a1", "a2"]
    assert [key for name, key in recorded.events if name == "commit"] == ["a0", "a1", "a2"]


def test_without_overlap_a_batch_handled_across_a_revocation_is_read_again() -> None:
    bus = MemoryBus()
    for i in range(2):
        bus.producer().send("in", f"a{i}", encode(article(i)))
    revocations = [0]
    handler = Echo()

    def revoking(message: Article) -> Iterator[Outgoing]:
        if message.id == "a1" and revocations[0] == 0:
            revocations[0] += 1  # taken away while the batch was being handled
        yield from handler(message)

    worker = StageWorker(
        stage="test", consumer=bus.consumer(["in"], "g"), producer=bus.producer(),
        kind=Article, handle=revoking, deadletter_topic="dead", metrics=Metrics(),
        clock=FrozenClock(), poll_timeout_s=0.05, revocations=lambda: revocations[0],
    )
    assert worker.run_once() == 0
    assert worker.drain(idle_s=0.05) == 2
    assert [r.key for r in bus.read_partition("out", 0, 0.1)] == ["a0", "a1", "a0", "a1"]
    worker.close()
    assert bus.consumer(["in"], "g").poll(0.05) == []
