"""The delivery engine's retry budget and circuit breaker, on a frozen clock."""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.alerts.deliverable import Deliverable
from monitor.alerts.delivery import DeliveryEngine, Progress, next_attempt, topic_extractor
from monitor.alerts.delivery import breaker as cb
from monitor.alerts.delivery.receivers import call_limit
from monitor.alerts.notifiers import InProcessNotifier, ReceiverUnavailable
from monitor.alerts.settings import AlertSettings, BreakerSettings, RetryBudget
from monitor.alerts.store import DELIVERED, AlertStore, Settled
from monitor.bus.base import Consumer, Record
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.clock import FrozenClock
from monitor.db import StoreError
from monitor.messages import Source
from monitor.ops.metrics import Metrics
from monitor.retry import BackoffPolicy
from tests.alerts.test_delivery import alerts_from_fixture

BUDGET = RetryBudget(max_attempts=4, max_elapsed_s=100, backoff=BackoffPolicy(base_s=1, cap_s=8))


def engine_on(
    bus: MemoryBus,
    notifiers: dict[str, InProcessNotifier],
    store: AlertStore,
    clock: FrozenClock,
    settings: AlertSettings | None = None,
    consumer: Consumer | None = None,
) -> DeliveryEngine:
    """A delivery engine reading topic "alerts" of ``bus`` for ``notifiers``."""
    return DeliveryEngine(
        consumer=consumer or bus.consumer(["alerts"], "g"),
        producer=bus.producer(),
        notifiers=notifiers,
        store=store,
        settings=settings or AlertSettings(),
        deadletter_topic="dl",
        poison_topic="poison",
        extract=topic_extractor(tuple(notifiers)),
        metrics=Metrics(),
        clock=clock,
        rng=random.Random(1),
    )


def run_steps(engine: DeliveryEngine, clock: FrozenClock, n: int, tick_s: float = 0.5) -> int:
    """Step the engine ``n`` times, ``tick_s`` of clock apart; how many records it committed."""
    committed = 0
    for _ in range(n):
        committed += engine.step(0.0)
        clock.advance(tick_s)
    return committed


def test_next_attempt_backs_off_honours_retry_after_and_stops_at_the_budget() -> None:
    rng = random.Random(1)
    progress = Progress(attempts=1, first_attempt=0.0)
    assert 0 <= next_attempt(progress, 0.0, BUDGET, rng, None) <= 1  # type: ignore[operator]
    assert next_attempt(progress, 0.0, BUDGET, rng, 30) == 30
    progress.attempts = 4
    assert next_attempt(progress, 0.0, BUDGET, rng, None) is None
    progress.attempts = 2
    assert next_attempt(progress, 99.5, BUDGET, rng, 5) is None  # past max_elapsed_s


def unavailable() -> ReceiverUnavailable:
    return ReceiverUnavailable("down", outcome="connect")


def test_open_breaker_stops_calls_until_a_single_probe(tmp_path: Path) -> None:
    clock = FrozenClock()
    notifier = InProcessNotifier("r", failures=[unavailable() for _ in range(5)])
    settings = AlertSettings(
        retry=RetryBudget(
            max_attempts=50, max_elapsed_s=10_000, backoff=BackoffPolicy(base_s=0.001, cap_s=0.001)
        ),
        breaker=BreakerSettings(failure_threshold=3, open_s=60, max_open_s=600),
    )
    bus = MemoryBus()
    alerts = alerts_from_fixture(3)
    for alert in alerts:
        bus.producer().send("alerts", alert.id, encode(alert))
    engine = engine_on(bus, {"r": notifier}, AlertStore(tmp_path / "a.sqlite3"), clock, settings)

    def steps(n: int) -> None:
        for _ in range(n):
            engine.step(0.0)
            clock.advance(0.01)

    steps(20)
    assert notifier.attempts == 3  # then the circuit opened: no storm
    clock.advance(60)
    steps(20)
    assert notifier.attempts == 4  # one probe, failed: open for twice as long
    clock.advance(120)
    steps(20)
    assert notifier.attempts == 5  # one probe, failed again
    clock.advance(240)
    steps(30)
    assert [a.id for a in notifier.delivered] == [a.id for a in alerts]
    assert notifier.attempts == 8
    assert engine.in_flight == 0
    engine.close()


def test_retry_after_pauses_the_receiver_for_all_its_alerts(tmp_path: Path) -> None:
    clock = FrozenClock()
    throttled = ReceiverUnavailable("busy", outcome="throttled", retry_after=60)
    slow = InProcessNotifier("slow", failures=[throttled])
    fine = InProcessNotifier("fine")
    bus = MemoryBus()
    alerts = alerts_from_fixture(4)
    for alert in alerts:
        bus.producer().send("alerts", alert.id, encode(alert))
    consumer = bus.consumer(["alerts"], "g")
    polls = 0
    real_poll = consumer.poll

    def poll(timeout_s: float, max_records: int = 500) -> list[Record]:
        nonlocal polls
        polls += 1
        return real_poll(timeout_s, max_records)

    consumer.poll = poll  # type: ignore[method-assign]
    engine = engine_on(
        bus,
        {"slow": slow, "fine": fine},
        AlertStore(tmp_path / "a.sqlite3"),
        clock,
        consumer=consumer,
    )

    def steps(n: int) -> int:
        return run_steps(engine, clock, n)

    assert steps(80) == 0  # 40 s: nothing settled while "slow" is paused
    assert slow.attempts == 1  # the other alerts in hand waited for Retry-After too
    assert [a.id for a in fine.delivered] == [a.id for a in alerts]  # others kept going
    before = polls
    assert steps(10) == 0
    assert polls - before == 10  # nothing can be sent: every step polls for new alerts
    assert slow.attempts == 1
    assert 14.0 <= engine.wait_s(600.0) <= 15.5  # the pause is slept through
    clock.advance(15)
    assert steps(20) == len(alerts)
    assert sorted(a.id for a in slow.delivered) == sorted(a.id for a in alerts)
    assert slow.attempts == len(alerts) + 1
    assert engine.in_flight == 0
    engine.close()


class RefusingStore(AlertStore):
    """The real history store, refusing every read and write while ``full`` is set
    (as SQLite does with "database or disk is full")."""

    full = False

    def _check(self) -> None:
        if self.full:
            raise StoreError(f"{self._db.path}: database or disk is full")

    def record(self, alert: Deliverable, now: float) -> Deliverable:
        self._check()
        return super().record(alert, now)

    def mark(
        self,
        alert_id: str,
        receiver: str,
        status: str,
        attempts: int,
        detail: str,
        now: float,
        revision: int = 1,
    ) -> None:
        self._check()
        super().mark(alert_id, receiver, status, attempts, detail, now, revision)

    def deliveries(self, alert_id: str) -> dict[str, str]:
        self._check()
        return super().deliveries(alert_id)

    def settled(self, alert_id: str, receiver: str) -> Settled | None:
        self._check()
        return super().settled(alert_id, receiver)


def test_a_refusing_store_delays_delivery_and_loses_nothing(tmp_path: Path) -> None:
    clock = FrozenClock()
    notifier = InProcessNotifier("r")
    store = RefusingStore(tmp_path / "a.sqlite3")
    bus = MemoryBus()
    alerts = alerts_from_fixture(4)
    producer = bus.producer()
    for alert in alerts[:2]:
        producer.send("alerts", alert.id, encode(alert))
    engine = engine_on(bus, {"r": notifier}, store, clock)

    def steps(n: int) -> int:
        return run_steps(engine, clock, n)

    assert steps(10) == 2
    store.full = True
    for alert in alerts[2:]:
        producer.send("alerts", alert.id, encode(alert))
    assert steps(20) == 0  # nothing is taken, sent or committed while the store refuses
    assert len(notifier.delivered) == 2
    assert engine.in_flight == 2
    assert engine.wait_s(30.0) <= 10.0  # the store is tried again within its backoff cap
    store.full = False
    clock.advance(10)
    assert steps(10) == 2
    assert [a.id for a in notifier.delivered] == [a.id for a in alerts]
    assert all(store.deliveries(a.id) == {"r": DELIVERED} for a in alerts)
    assert engine.in_flight == 0
    engine.close()


def test_an_outcome_the_store_refuses_is_recorded_later_and_not_sent_again(
    tmp_path: Path,
) -> None:
    clock = FrozenClock()
    store = RefusingStore(tmp_path / "a.sqlite3")

    class FillsTheDisk(InProcessNotifier):
        def send(self, alert: Deliverable) -> None:
            super().send(alert)
            store.full = True  # the disk fills between the 2xx and its record

    notifier = FillsTheDisk("r")
    bus = MemoryBus()
    alert = alerts_from_fixture(1)[0]
    bus.producer().send("alerts", alert.id, encode(alert))
    bus.producer().send("alerts", alert.id, encode(alert))  # a second revision, read again
    engine = engine_on(bus, {"r": notifier}, store, clock)
    for _ in range(10):
        engine.step(0.0)
        clock.advance(0.5)
    assert len(notifier.delivered) == 1
    store.full = False
    clock.advance(10)
    for _ in range(10):
        engine.step(0.0)
        clock.advance(0.5)
    assert len(notifier.delivered) == 1
    assert store.deliveries(alert.id) == {"r": DELIVERED}
    assert engine.in_flight == 0
    engine.close()


def test_a_failed_attempt_logs_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = FrozenClock()
    down = InProcessNotifier("down", failures=[ReceiverUnavailable("503", outcome="server_error")])
    bus = MemoryBus()
    alert = alerts_from_fixture(1)[0]
    bus.producer().send("alerts", alert.id, encode(alert))
    engine = engine_on(bus, {"down": down}, AlertStore(tmp_path / "a.sqlite3"), clock)
    with caplog.at_level(logging.INFO, logger="monitor.alerts.delivery"):
        run_steps(engine, clock, 2)
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failed and all(r.levelno == logging.WARNING for r in failed)


class GatedNotifier(InProcessNotifier):
    """Holds every call until the test opens the gate; counts calls running at once."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.running: list[str] = []
        self.most_at_once = 0
        self.overlapping_ids = 0

    def send(self, alert: Deliverable) -> None:
        with self.lock:
            self.overlapping_ids += alert.id in self.running
            self.running.append(alert.id)
            self.most_at_once = max(self.most_at_once, len(self.running))
        self.gate.wait(10)
        with self.lock:
            self.running.remove(alert.id)
        super().send(alert)


def test_call_limit_is_earned_by_answering_and_lost_at_a_failure() -> None:
    closed, failing = cb.Breaker(), cb.Breaker("open", 5, 10.0, 1.0)
    assert call_limit(closed, answered=True, concurrency=4) == 4
    assert call_limit(closed, answered=False, concurrency=4) == 1
    assert call_limit(failing, answered=True, concurrency=4) == 1


def test_a_receiver_that_answers_gets_several_calls_at_once_never_two_for_one_alert(
    tmp_path: Path
) -> None:
    clock = FrozenClock()
    bus = MemoryBus()
    alerts = alerts_from_fixture(6)
    revised = dataclasses.replace(alerts[0], sources=(*alerts[0].sources, Source(
        "late", "", "http://127.0.0.1/late")))
    notifier = GatedNotifier("r")
    notifier.gate.set()
    store = AlertStore.in_dir(tmp_path)
    engine = engine_on(bus, {"r": notifier}, store, clock,
                       AlertSettings(receiver_concurrency=4, group_interval_s=0))
    producer = bus.producer()
    producer.send("alerts", alerts[5].id, encode(alerts[5]))
    run_steps(engine, clock, 4)  # the receiver answers once: it has earned its calls
    notifier.gate.clear()
    for alert in alerts[:3]:
        producer.send("alerts", alert.id, encode(alert))
    committed = engine.step(0.0)
    try:
        assert wait_until(lambda: len(notifier.running) == 3)
        # A later revision of a running alert waits for that call to end, though
        # the receiver could take one more call…
        producer.send("alerts", revised.id, encode(revised))
        committed += engine.step(0.0) + engine.step(0.0)
        assert not wait_until(lambda: len(notifier.running) > 3, timeout_s=0.3)
        # …which another alert gets.
        for alert in alerts[3:5]:
            producer.send("alerts", alert.id, encode(alert))
        committed += engine.step(0.0) + engine.step(0.0)
        assert wait_until(lambda: len(notifier.running) == 4)
    finally:
        notifier.gate.set()
    assert committed + run_steps(engine, clock, 40) == 6
    engine.close()
    store.close()
    assert notifier.overlapping_ids == 0
    assert {a.id for a in notifier.delivered} == {a.id for a in alerts}


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not condition():
        time.sleep(0.01)
    return condition()
