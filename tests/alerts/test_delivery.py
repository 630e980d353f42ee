"""Delivery to real loopback receivers that fail, are slow, throttle or are down."""

from __future__ import annotations

import dataclasses
import functools
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from monitor.alerts.backtest import replay
from monitor.alerts.matching import evaluate, make_alert
from monitor.alerts.role import DeliveryRole
from monitor.alerts.rules import load_rules
from monitor.alerts.settings import BreakerSettings, ReceiverSettings, RetryBudget
from monitor.alerts.signing import verify
from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.config import Settings
from monitor.messages import Alert, DeadLetter
from monitor.ops.metrics import Metrics
from monitor.retry import BackoffPolicy
from monitor.roles import RoleContext
from tests.alerts.helpers import RULES_FILE, Receiver, Seen, settings_for, tagged_article

KEY = "delivery-test-key"
FAST_RETRY = RetryBudget(max_attempts=8, max_elapsed_s=30,
                         backoff=BackoffPolicy(base_s=0.05, cap_s=0.2))
BREAKER = BreakerSettings(failure_threshold=3, open_s=0.2, max_open_s=0.5)


def _updated(text: str, n: int) -> str:
    return f"{text} (update {n})"


def alerts_from_fixture(count: int) -> list[Alert]:
    """Distinct alerts: the fixture's hits, re-made for several articles."""
    ruleset = load_rules(RULES_FILE)
    made: dict[str, Alert] = {}
    for n in range(count):
        article = tagged_article(article_id=f"a{n}", edit=functools.partial(_updated, n=n))
        for st in article.statements:
            for hit in evaluate(ruleset, st, article.article):
                alert = make_alert(hit, st, article.article, time.time())
                made.setdefault(alert.id, alert)
    return list(made.values())[:count]


def receiver_settings(name: str, server: Receiver, timeout_s: float = 2.0) -> ReceiverSettings:
    return ReceiverSettings(name=name, url=server.url,  # type: ignore[arg-type]
                            secret=SecretStr(KEY), timeout_s=timeout_s)


def publish(bus: MemoryBus, settings: Settings, alerts: list[Alert]) -> None:
    producer = bus.producer()
    for alert in alerts:
        producer.send(settings.bus.topics.alerts, alert.id, encode(alert))


def delivered_count(metrics: Metrics, receiver: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "monitor_deliveries_total", {"receiver": receiver, "outcome": outcome})
    return value or 0.0


@pytest.fixture
def servers() -> Iterator[dict[str, Receiver]]:
    made: dict[str, Receiver] = {}
    yield made
    for server in made.values():
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_alert_reaches_every_receiver_once_by_key_without_retry_storm(
    tmp_path: Path, servers: dict[str, Receiver]
) -> None:
    def flaky(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        return (500, {}, 0.0) if n <= 2 else (200, {}, 0.0)

    def slow(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        return 200, {}, (1.5 if n == 1 else 0.2)  # the first answer misses the timeout

    def throttled(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        return (429, {"Retry-After": "1"}, 0.0) if n == 1 else (200, {}, 0.0)

    servers["ok"] = Receiver().start()
    servers["flaky"] = Receiver(flaky).start()
    servers["slow"] = Receiver(slow).start()
    servers["throttled"] = Receiver(throttled).start()
    servers["down"] = Receiver(port=free_port())  # not listening yet
    receivers = [receiver_settings(n, s, timeout_s=1.0 if n == "slow" else 2.0)
                 for n, s in servers.items()]
    settings = settings_for(tmp_path, receivers, retry=FAST_RETRY, breaker=BREAKER)
    bus, metrics = MemoryBus(), Metrics()
    alerts = alerts_from_fixture(4)
    assert len(alerts) == 4
    publish(bus, settings, alerts)
    threading.Timer(1.0, servers["down"].start).start()  # comes back after a while

    role = DeliveryRole(RoleContext(settings, bus, metrics, SystemClock()))
    role.run_once(idle_s=2.0)
    role.close()

    ids = {a.id for a in alerts}
    for name, server in servers.items():
        keys = server.accepted_keys()
        assert set(keys) == ids, name
        if name != "slow":
            assert len(keys) == len(ids), name  # no duplicate deliveries
        for seen in server.requests:
            assert verify([KEY.encode()], seen.headers, seen.body, SystemClock().now())
            assert json.loads(seen.body)["id"] == seen.headers["Idempotency-Key"]
    # No retry storm: only the failed requests were repeated.
    assert len(servers["flaky"].requests) == len(alerts) + 2
    assert len(servers["throttled"].requests) == len(alerts) + 1
    assert len(servers["slow"].requests) <= len(alerts) + 2
    assert delivered_count(metrics, "down", "connect") <= 12
    assert not bus.records_in(settings.bus.topics.alerts_deadletter)
    # Everything settled, so a restarted delivery role has nothing to send.
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), SystemClock()))
    assert role.run_once(idle_s=0.2) == 0
    role.close()


def test_retry_after_is_honoured(tmp_path: Path, servers: dict[str, Receiver]) -> None:
    arrivals: list[float] = []

    def throttled(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        arrivals.append(SystemClock().monotonic())
        return (429, {"Retry-After": "2"}, 0.0) if n == 1 else (200, {}, 0.0)

    servers["t"] = Receiver(throttled).start()
    settings = settings_for(tmp_path, [receiver_settings("t", servers["t"])], retry=FAST_RETRY)
    bus = MemoryBus()
    publish(bus, settings, alerts_from_fixture(1))
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), SystemClock()))
    role.run_once(idle_s=3.0)
    role.close()
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 2.0  # never sooner than the receiver asked


def test_exhausted_budget_dead_letters_and_replay_delivers_once(
    tmp_path: Path, servers: dict[str, Receiver]
) -> None:
    healthy = threading.Event()

    def broken(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        return (200, {}, 0.0) if healthy.is_set() else (503, {}, 0.0)

    def rejecting(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        return (200, {}, 0.0) if healthy.is_set() else (400, {}, 0.0)

    servers["ok"] = Receiver().start()
    servers["broken"] = Receiver(broken).start()
    servers["rejecting"] = Receiver(rejecting).start()
    budget = RetryBudget(max_attempts=3, max_elapsed_s=30,
                         backoff=BackoffPolicy(base_s=0.02, cap_s=0.05))
    settings = settings_for(tmp_path, [receiver_settings(n, s) for n, s in servers.items()],
                            retry=budget, breaker=BreakerSettings(failure_threshold=10))
    bus = MemoryBus()
    alerts = alerts_from_fixture(2)
    publish(bus, settings, alerts)
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), SystemClock()))
    role.run_once(idle_s=0.5)

    assert len(servers["broken"].requests) == 2 * 3  # exactly the budget, then stop
    assert len(servers["rejecting"].requests) == 2  # a 4xx is not retried
    letters = bus.records_in(settings.bus.topics.alerts_deadletter)
    assert sorted(r.headers["monitor-receiver"] for r in letters) == [
        b"broken", b"broken", b"rejecting", b"rejecting"]
    letter = decode(letters[0].value, DeadLetter)
    assert letter.stage == "delivery" and "attempts" in letter.reason
    assert set(servers["ok"].accepted_keys()) == {a.id for a in alerts}
    stored = {s.alert.id: s.deliveries for s in role.store.recent(10)}
    assert all(d == {"ok": "delivered", "broken": "deadlettered", "rejecting": "deadlettered"}
               for d in stored.values())
    role.close()

    healthy.set()
    replayed = replay(settings, bus, Metrics(), SystemClock(), idle_s=0.3)
    assert replayed == 4
    assert sorted(servers["broken"].accepted_keys()) == sorted(a.id for a in alerts)
    assert sorted(servers["rejecting"].accepted_keys()) == sorted(a.id for a in alerts)
    assert len(servers["ok"].requests) == 2  # replay goes only where delivery failed
    assert replay(settings, bus, Metrics(), SystemClock(), idle_s=0.3) == 0


def test_a_slow_receiver_does_not_hold_up_the_others(
    tmp_path: Path, servers: dict[str, Receiver]
) -> None:
    alerts = alerts_from_fixture(3)
    fast_has_all = threading.Event()
    seen_while_blocked: list[bool] = []

    def fast(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        if n == len(alerts):
            fast_has_all.set()
        return 200, {}, 0.0

    def stuck_first(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
        if n == 1:  # hold the first answer until the fast receiver has everything
            seen_while_blocked.append(fast_has_all.wait(timeout=10))
        return 200, {}, 0.0

    servers["fast"] = Receiver(fast).start()
    servers["stuck"] = Receiver(stuck_first).start()
    settings = settings_for(tmp_path, [receiver_settings(n, s, timeout_s=20)
                                       for n, s in servers.items()], retry=FAST_RETRY)
    bus = MemoryBus()
    publish(bus, settings, alerts)
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), SystemClock()))
    role.run_once(idle_s=0.5)
    role.close()
    assert seen_while_blocked == [True]
    assert sorted(servers["stuck"].accepted_keys()) == sorted(a.id for a in alerts)


def test_group_wait_holds_a_new_alert_and_sends_its_latest_revision_once(
    tmp_path: Path, servers: dict[str, Receiver]
) -> None:
    from monitor.alerts.delivery import DeliveryEngine, topic_extractor
    from monitor.alerts.role import build_notifiers
    from monitor.alerts.store import AlertStore
    from monitor.clock import FrozenClock, iso_utc
    from monitor.messages import Source

    servers["hook"] = Receiver().start()
    settings = settings_for(tmp_path, [receiver_settings("hook", servers["hook"])],
                            retry=FAST_RETRY, group_wait_s=30)
    clock = FrozenClock(start=time.time())
    bus = MemoryBus()
    topic = settings.bus.topics.alerts
    first = dataclasses.replace(alerts_from_fixture(1)[0], created_at=iso_utc(clock.now()))
    engine = DeliveryEngine(
        consumer=bus.consumer([topic], "g"), producer=bus.producer(),
        notifiers=build_notifiers(settings.alerts, clock),
        store=AlertStore.in_dir(settings.state_dir), settings=settings.alerts,
        deadletter_topic="dl", poison_topic="poison", extract=topic_extractor(("hook",)),
        metrics=Metrics(), clock=clock,
    )
    publish(bus, settings, [first])
    engine.step(0.1)
    clock.advance(10)
    revisions = [dataclasses.replace(first, sources=first.sources + tuple(
        Source(f"late{i}", "", f"http://127.0.0.1/late{i}") for i in range(n)))
        for n in (1, 2)]
    publish(bus, settings, revisions)
    engine.step(0.1)
    assert servers["hook"].requests == []  # still inside the group wait
    clock.advance(25)
    while engine.in_flight:
        engine.step(0.1)
    engine.close()
    [seen] = servers["hook"].requests
    assert len(json.loads(seen.body)["sources"]) == 3


def test_an_undecodable_record_is_dead_lettered_and_delivery_goes_on(
    tmp_path: Path, servers: dict[str, Receiver]
) -> None:
    servers["hook"] = Receiver().start()
    settings = settings_for(tmp_path, [receiver_settings("hook", servers["hook"])])
    bus = MemoryBus()
    alert = alerts_from_fixture(1)[0]
    bus.producer().send(settings.bus.topics.alerts, "junk", b'{"schema": "alert/9"}')
    publish(bus, settings, [alert])
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), SystemClock()))
    assert role.run_once(idle_s=0.2) == 2  # both settled and committed
    role.close()
    assert servers["hook"].accepted_keys() == [alert.id]
    [letter] = [decode(r.value, DeadLetter) for r in bus.records_in(settings.bus.topics.deadletter)]
    assert letter.stage == "delivery" and letter.key == "junk" and "alert" in letter.reason.lower()
    assert not bus.records_in(settings.bus.topics.alerts_deadletter)
