"""Pytest plugin: a real Kafka broker for tests marked ``@pytest.mark.kafka``.

Loaded from ``tests/conftest.py`` with ``pytest_plugins = ["tests.kafka_broker"]``.

Where the broker comes from, first match wins:

1. ``MONITOR_TEST_KAFKA`` (a bootstrap address such as ``127.0.0.1:9092``) — use it as is;
2. a Docker engine that answers a ping — a KRaft broker through testcontainers;
3. otherwise ``scripts/kafka-local start`` (Java + Maven, no Docker). A broker this
   session started is stopped at the end; one that was already running is left alone.

Fixtures:

``kafka_bootstrap``  (session) the bootstrap address, ``"host:port"``.
``kafka_settings``   (session) :class:`~monitor.bus.settings.KafkaSettings` for it.
``kafka_topics``     (function) fresh, uniquely named pipeline topics, already created
                     with three partitions (and deleted after the test, with any other
                     topic the test made under the same suffix), so tests never see
                     each other's records:
                     ``kafka_topics.names`` is a :class:`~monitor.bus.codec.TopicNames`
                     to put into ``BusSettings``; ``kafka_topics.articles`` etc. are
                     shorthands; ``kafka_topics.group("nlp")`` a private group id.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from monitor.bus.codec import TopicNames
from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from monitor.roles import STAGE_NAMES

REPO_ROOT = Path(__file__).resolve().parent.parent
KAFKA_LOCAL = REPO_ROOT / "scripts" / "kafka-local"
#: Seconds kafka-local may take on a cold machine (Maven download + JVM start).
KAFKA_LOCAL_START_LIMIT_S = 600

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KafkaTopics:
    """Topic names for one test: the pipeline's topics with a unique suffix."""

    suffix: str
    names: TopicNames

    @property
    def articles(self) -> str:
        return self.names.articles

    @property
    def statements(self) -> str:
        return self.names.statements

    @property
    def alerts(self) -> str:
        return self.names.alerts

    @property
    def deadletter(self) -> str:
        return self.names.deadletter

    @property
    def alerts_deadletter(self) -> str:
        return self.names.alerts_deadletter

    @property
    def feeds(self) -> str:
        return self.names.feeds

    @property
    def alerts_candidates(self) -> str:
        return self.names.alerts_candidates

    @property
    def alerts_state(self) -> str:
        return self.names.alerts_state

    @property
    def articles_found(self) -> str:
        return self.names.articles_found

    @property
    def articles_seen(self) -> str:
        return self.names.articles_seen

    @property
    def all(self) -> list[str]:
        return self.names.all()

    def group(self, role: str) -> str:
        """A consumer-group id private to this test."""
        return f"monitor.{role}.{self.suffix}"

    def bus_config(self, bootstrap: str) -> dict[str, object]:
        """The ``bus:`` config section for a monitor on these topics and private groups."""
        return {
            "kind": "kafka",
            "kafka": {"bootstrap_servers": bootstrap},
            "topics": self.names.model_dump(),
            "groups": {role: self.group(role) for role in STAGE_NAMES},
        }


def _docker_engine_answers() -> bool:
    """True only when a Docker engine (not merely the CLI) responds within two seconds."""
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:  # any failure means "no usable engine": missing lib, socket, perms
        return False
    return True


def _testcontainers_kafka() -> Iterator[str]:
    try:
        from testcontainers.community.kafka import KafkaContainer
    except ImportError:  # testcontainers < 4.10 kept the module at the top level
        from testcontainers.kafka import KafkaContainer

    with KafkaContainer().with_kraft() as container:
        yield container.get_bootstrap_server()


def _kafka_local(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAFKA_LOCAL), action],
        capture_output=True,
        text=True,
        timeout=KAFKA_LOCAL_START_LIMIT_S,
        check=False,
    )


def _local_broker() -> Iterator[str]:
    already_running = _kafka_local("status").returncode == 0
    started = _kafka_local("start")
    if started.returncode != 0:
        pytest.fail(f"scripts/kafka-local start failed:\n{started.stderr}", pytrace=False)
    address = started.stdout.strip().splitlines()[-1]
    try:
        yield address
    finally:
        if not already_running:
            _kafka_local("stop")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a live broker for this test session."""
    explicit = os.environ.get("MONITOR_TEST_KAFKA", "").strip()
    if explicit:
        yield explicit
    elif _docker_engine_answers():
        yield from _testcontainers_kafka()
    else:
        yield from _local_broker()


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    """Settings pointing at the session's broker."""
    # model_validate: the address may be a comma-separated list (MONITOR_TEST_KAFKA).
    return KafkaSettings.model_validate(
        {"bootstrap_servers": kafka_bootstrap, "client_id": "monitor-tests"}
    )


@pytest.fixture
def kafka_topics(
    kafka_settings: KafkaSettings, request: pytest.FixtureRequest
) -> Iterator[KafkaTopics]:
    """Fresh topics (three partitions each) named after the test plus a random tag.

    Deleted again after the test, with any other topic carrying the same suffix:
    a broker kept across sessions would otherwise hold every test's partitions
    (thousands a run) and, in the end, run out of heap.
    """
    test_name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-")
    suffix = f"{test_name}.{uuid.uuid4().hex[:8]}"
    defaults = TopicNames()
    unique = {field: f"{name}.{suffix}" for field, name in defaults.model_dump().items()}
    topics = KafkaTopics(suffix=suffix, names=TopicNames(**unique))
    bus = KafkaBus(kafka_settings)
    try:
        bus.ensure_topics(topics.all)
    finally:
        bus.close()
    yield topics
    _delete_topics_ending(kafka_settings, f".{suffix}")


def _delete_topics_ending(settings: KafkaSettings, suffix: str) -> None:
    """Best-effort clean-up: a failure here is logged, never a test failure."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=list(settings.bootstrap_servers), client_id="monitor-tests-cleanup"
        )
    except KafkaError as exc:
        _log.warning("could not delete the topics ending %s: %s", suffix, exc)
        return
    try:
        doomed = [t for t in admin.list_topics() if t.endswith(suffix)]
        if doomed:
            admin.delete_topics(doomed, timeout_ms=30_000)
    except KafkaError as exc:
        _log.warning("could not delete the topics ending %s: %s", suffix, exc)
    finally:
        admin.close()
