"""The stage watchdog: a consumer with records waiting that reads none is
reported and re-created, on the embedded bus and on real Kafka."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import ValidationError

from monitor.bus.base import Consumer, Record
from monitor.bus.codec import encode
from monitor.bus.kafka import KafkaBus
from monitor.bus.memory import MemoryBus
from monitor.bus.settings import KafkaSettings
from monitor.bus.worker import Outgoing, StageStalled, StageWorker, is_stalled
from monitor.clock import FrozenClock, SystemClock
from monitor.config import Settings
from monitor.daemon import ROLE_FACTORIES, Daemon
from monitor.messages import Article
from monitor.ops.metrics import Metrics
from monitor.ops.readiness import assess_readiness, stalled_stages
from monitor.roles import RoleContext
from tests.bus.test_worker import article
from tests.kafka_broker import KafkaTopics
from tests.support import REPO_ROOT, wait_for


class StuckConsumer:
    """A consumer that stays in its group but hands out nothing: every record it
    is given is put back, so its lag stays what it was."""

    def __init__(self, inner: Consumer) -> None:
        self.inner = inner

    def poll(self, timeout_s: float, max_records: int = 500) -> Sequence[Record]:
        firsts: dict[tuple[str, int], Record] = {}
        for record in self.inner.poll(timeout_s, max_records):
            firsts.setdefault((record.topic, record.partition), record)
        for record in firsts.values():
            self.inner.seek_back(record)
        return []

    def commit(self, records: Sequence[Record]) -> None:
        self.inner.commit(records)

    def seek_back(self, record: Record) -> None:
        self.inner.seek_back(record)

    def lag(self) -> dict[tuple[str, int], int]:
        return self.inner.lag()

    def close(self) -> None:
        self.inner.close()


def ignore(message: Article) -> Iterator[Outgoing]:
    return iter(())


def test_the_decision() -> None:
    assert not is_stalled(now=100, last_read=0, waiting=0, stall_after_s=60)
    assert not is_stalled(now=59, last_read=0, waiting=5, stall_after_s=60)
    assert is_stalled(now=60, last_read=0, waiting=5, stall_after_s=60)


def test_a_stuck_consumer_is_reported_and_the_stage_raises_to_be_rebuilt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = MemoryBus()
    producer = bus.producer()
    for i in range(3):
        producer.send("in", f"a{i}", encode(article(i)))
    clock, metrics = FrozenClock(), Metrics()
    worker: StageWorker[Article] = StageWorker(
        stage="nlp", consumer=StuckConsumer(bus.consumer(["in"], "g")), producer=producer,
        kind=Article, handle=ignore, deadletter_topic="dead", metrics=metrics, clock=clock,
        stall_after_s=60, lag_report_s=0,
    )
    stop = threading.Event()
    polls = 0
    original = worker.run_once

    def run_once(timeout_s: float | None = None) -> int:
        nonlocal polls
        polls += 1
        clock.advance(10)  # each empty poll is ten seconds of nothing
        return original(0)

    worker.run_once = run_once  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, "monitor.bus.worker"), \
            pytest.raises(StageStalled) as caught:
        worker.run(stop)
    assert polls == 6
    assert str(caught.value) == "stage nlp stalled: 3 records waiting, none read for 60s"
    assert caught.value.kind == "retryable" and caught.value.reason == "stalled"
    assert metrics.stage_stalls.labels("nlp")._value.get() == 1
    assert metrics.errors.labels("nlp", "retryable", "stalled")._value.get() == 1
    assert stalled_stages(metrics.registry) == ["nlp"]
    verdict = assess_readiness(stopping=False, bus_reachable=True, roles_running=[],
                               lag={}, max_lag=1000, stalled=stalled_stages(metrics.registry))
    assert verdict.reasons == (
        "stage nlp is stalled: records are waiting and its consumer reads none",
    )
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [
        "stage nlp stalled: 3 records waiting and none read for 60s; re-creating its consumer"
    ]


def test_a_stage_with_nothing_waiting_or_reading_is_not_stalled() -> None:
    bus = MemoryBus()
    clock, metrics = FrozenClock(), Metrics()
    worker: StageWorker[Article] = StageWorker(
        stage="nlp", consumer=bus.consumer(["in"], "g"), producer=bus.producer(),
        kind=Article, handle=ignore, deadletter_topic="dead", metrics=metrics, clock=clock,
        stall_after_s=60, lag_report_s=0,
    )
    for _ in range(20):
        clock.advance(10)
        worker.run_once(0)
        worker._watch(worker._report_lag())
    bus.producer().send("in", "a1", encode(article(1)))
    clock.advance(100)
    assert worker.run_once(0) == 1  # read, so the time since the last read starts again
    worker._watch(worker._report_lag())
    assert metrics.stage_stalls.labels("nlp")._value.get() == 0


class WatchedRole:
    """An nlp stand-in on Kafka: its first instance's consumer is stuck, later ones read."""

    name = "nlp"
    handled: ClassVar[list[str]] = []
    built: ClassVar[int] = 0

    def __init__(self, ctx: RoleContext) -> None:
        settings = ctx.settings
        consumer: Consumer = ctx.bus.consumer([settings.bus.topics.articles],
                                              settings.bus.groups.nlp)
        if WatchedRole.built == 0:
            consumer = StuckConsumer(consumer)
        WatchedRole.built += 1
        self._worker: StageWorker[Article] = StageWorker(
            stage="nlp", consumer=consumer, producer=ctx.bus.producer(), kind=Article,
            handle=self._handle, deadletter_topic=settings.bus.topics.deadletter,
            metrics=ctx.metrics, clock=ctx.clock, stall_after_s=3.0, lag_report_s=0.5,
        )

    def _handle(self, message: Article) -> Iterator[Outgoing]:
        WatchedRole.handled.append(message.id)
        return iter(())

    def run_once(self) -> int:
        return self._worker.drain()

    def run(self, stop: threading.Event) -> None:
        self._worker.run(stop)

    def reload(self, settings: Settings) -> None:
        return None

    def close(self) -> None:
        self._worker.close()


@pytest.mark.kafka
def test_on_kafka_a_stuck_consumer_is_re_created_by_the_daemon_and_reads_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_settings: KafkaSettings,
    kafka_topics: KafkaTopics,
) -> None:
    monkeypatch.setitem(ROLE_FACTORIES, "nlp", "tests.bus.test_watchdog:WatchedRole")
    monkeypatch.setattr(WatchedRole, "handled", [])
    monkeypatch.setattr(WatchedRole, "built", 0)
    settings = Settings.model_validate({
        "bus": {"kind": "kafka", "kafka": kafka_settings.model_dump(),
                "topics": kafka_topics.names.model_dump(),
                "groups": {r: kafka_topics.group(r) for r in ("poller", "nlp", "alerts",
                                                                "delivery")}},
        "state_dir": str(tmp_path / "state"),
    })
    bus = KafkaBus(kafka_settings)
    producer = bus.producer()
    for i in range(5):
        producer.send(kafka_topics.articles, f"a{i}", encode(article(i)))
    producer.flush(10)
    producer.close()
    daemon = Daemon(settings, ("nlp",), bus=bus, clock=SystemClock())
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(daemon.run(install_signals=False)))
    runner.start()
    try:
        wait_for(lambda: daemon.metrics.stage_stalls.labels("nlp")._value.get() == 1, 90,
                 "the watchdog to find the stuck consumer")
        wait_for(lambda: len(set(WatchedRole.handled)) == 5, 90,
                 "the re-created consumer to read every record")
    finally:
        daemon.request_stop()
        runner.join(60)
    assert codes == [0]
    assert WatchedRole.built == 2
    assert daemon.metrics.role_restarts.labels("nlp")._value.get() == 1
    assert daemon.role_states[0].last_error is not None
    assert "StageStalled: stage nlp stalled: 5 records waiting" in daemon.role_states[0].last_error
    assert stalled_stages(daemon.metrics.registry) == []


def test_the_stall_time_is_a_validated_config_key_the_stage_roles_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().bus.stage_stall_after_s == 120
    for refused in (29, 86_401):
        with pytest.raises(ValidationError, match="stage_stall_after_s"):
            Settings.model_validate({"bus": {"stage_stall_after_s": refused}})
    settings = Settings.model_validate({"bus": {"stage_stall_after_s": 45},
                                        "state_dir": str(tmp_path / "state"),
                                        "rules_file": str(REPO_ROOT / "config" / "rules.yaml")})
    given: list[float] = []

    def recording(**kwargs: object) -> object:
        given.append(float(kwargs["stall_after_s"]))  # type: ignore[arg-type]
        return object()

    for module, factory in (("monitor.nlp.stage", "NlpRole"), ("monitor.alerts.role", "AlertRole")):
        monkeypatch.setattr(f"{module}.StageWorker", recording)
        role_class = getattr(importlib.import_module(module), factory)
        role_class(RoleContext(settings, MemoryBus(), Metrics(), FrozenClock(0.0)))
    assert given == [45.0, 45.0]
