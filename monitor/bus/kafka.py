"""The Kafka transport: :class:`KafkaBus` and its producer and consumer, on kafka-python.

Contract beyond :mod:`monitor.bus.base`:

* Producers are idempotent with ``acks=all``: a retried send is never written twice.
* Consumers never commit on their own (``enable_auto_commit=False``); :meth:`commit`
  stores ``offset + 1`` of the newest given record per partition, nothing else.
* Reaching the cluster is tried ``connect_attempts`` times, each bounded by
  ``bootstrap_timeout_ms``; then :class:`~monitor.errors.BrokerUnavailable` is raised
  with a one-line message naming the servers and the time spent.
* Every kafka-python failure leaves this module as a :class:`~monitor.errors.MonitorError`
  (``raise … from exc``): connection trouble as ``BrokerUnavailable``, other transient
  trouble as :class:`KafkaRetryable`, the rest (auth, config, oversized record) as
  :class:`KafkaPermanent`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from kafka import (
    ConsumerRebalanceListener,
    KafkaAdminClient,
    KafkaConsumer,
    KafkaProducer,
    OffsetAndMetadata,
    TopicPartition,
)
from kafka import errors as kafka_errors
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.coordinator.assignors.abstract import (
    AbstractPartitionAssignor,
    ConsumerProtocolAssignment,
    ConsumerProtocolSubscription,
)
from kafka.coordinator.assignors.range import RangePartitionAssignor

from monitor.bus.assignor import Subscriber, ranked_ranges
from monitor.bus.base import AssignmentListener, Bus, Record
from monitor.bus.settings import KafkaSettings
from monitor.errors import BrokerUnavailable, MonitorError, PermanentError, RetryableError
from monitor.text import one_line

log = logging.getLogger(__name__)

_Client = TypeVar("_Client")

# Clients are made with kafka-python's own metrics off ("metrics_enabled"):
# nothing reads them (the monitor's metrics are its own), and recording them
# cost about 5 % of a pipeline process's time (docs/benchmarks.md).

#: What kafka-python raises: its own tree, socket errors, and ValueError/TypeError for bad input.
_KAFKA_FAILURES = (kafka_errors.KafkaError, OSError, ValueError, TypeError)
_CONNECT_FAILURES = (kafka_errors.KafkaTimeoutError, kafka_errors.KafkaConnectionError)
_TOPIC_ALREADY_EXISTS = kafka_errors.TopicAlreadyExistsError.errno


class KafkaRetryable(RetryableError):
    """A transient Kafka failure (timeout, leader moved, rebalance during commit)."""

    reason: ClassVar[str] = "kafka_retryable"


class KafkaPermanent(PermanentError):
    """A Kafka failure that retrying cannot fix (auth, bad config, record too large)."""

    reason: ClassVar[str] = "kafka_permanent"


def translate(exc: BaseException, action: str) -> MonitorError:
    """Sort a kafka-python failure into the monitor's tree; ``action`` says what was tried."""
    if isinstance(exc, MonitorError):
        return exc
    message = f"kafka: {action} failed: {one_line(exc)}"
    if isinstance(exc, kafka_errors.KafkaConnectionError | ConnectionError):
        return BrokerUnavailable(message)
    if isinstance(exc, kafka_errors.CommitFailedError | OSError):
        return KafkaRetryable(message)
    if isinstance(exc, kafka_errors.KafkaError) and exc.retriable:
        return KafkaRetryable(message)
    return KafkaPermanent(message)


def _to_record(raw: Any) -> Record:
    key: bytes | None = raw.key
    return Record(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        # Our producers write UTF-8 keys; a foreign key is kept readable rather than fatal.
        key=key.decode("utf-8", errors="replace") if key is not None else None,
        value=raw.value if raw.value is not None else b"",
        headers={name: value or b"" for name, value in raw.headers or ()},
        timestamp_ms=raw.timestamp,
        tombstone=raw.value is None,
    )


def _next_offsets(records: Iterable[Record]) -> dict[TopicPartition, OffsetAndMetadata]:
    """The offset to resume from per partition: one past the newest record given."""
    newest: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        newest[partition] = max(newest.get(partition, -1), record.offset)
    return {tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in newest.items()}


class KafkaBusProducer:
    """An idempotent producer; delivery failures surface at :meth:`flush`."""

    #: Beyond this many unflushed sends, completed ones are pruned from the watch list.
    _PRUNE_AT: ClassVar[int] = 10_000

    def __init__(self, client: KafkaProducer, close_timeout_s: float) -> None:
        self._client = client
        self._close_timeout_s = close_timeout_s
        self._pending: list[Any] = []

    @property
    def idempotent(self) -> bool:
        """Whether kafka-python kept idempotence on (it raises rather than drop it)."""
        return bool(self._client.config["enable_idempotence"]) and self._client.config["acks"] == -1

    @property
    def producer_id(self) -> int | None:
        """The id the broker gave this idempotent producer; None before its first send."""
        manager = self._client._transaction_manager
        if manager is None or manager.producer_id_and_epoch.producer_id < 0:
            return None
        return int(manager.producer_id_and_epoch.producer_id)

    def send(
        self,
        topic: str,
        key: str | None,
        value: bytes,
        headers: Mapping[str, bytes] | None = None,
        partition: int | None = None,
    ) -> None:
        """Queue one record; ``key`` is sent as UTF-8 and decides the partition
        unless ``partition`` is given."""
        self._send(topic, key, value, headers, partition)

    def tombstone(self, topic: str, key: str, partition: int | None = None) -> None:
        """Queue a record with a null value for ``key``."""
        self._send(topic, key, None, None, partition)

    def _send(
        self,
        topic: str,
        key: str | None,
        value: bytes | None,
        headers: Mapping[str, bytes] | None,
        partition: int | None,
    ) -> None:
        try:
            future = self._client.send(
                topic,
                value=value,
                key=key.encode("utf-8") if key is not None else None,
                headers=list(headers.items()) if headers else None,
                partition=partition,
            )
        except _KAFKA_FAILURES as exc:
            raise translate(exc, f"sending to {topic}") from exc
        self._pending.append(future)
        if len(self._pending) > self._PRUNE_AT:
            self._pending = [f for f in self._pending if not f.succeeded()]

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every queued record is acknowledged; raise the first delivery failure."""
        try:
            self._client.flush(timeout=timeout_s)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, "flushing the producer") from exc
        pending, self._pending = self._pending, []
        failures = [f.exception for f in pending if f.failed()]
        if failures:
            first = failures[0]
            action = f"delivering {len(failures)} of {len(pending)} records"
            raise translate(first, action) from first

    def close(self) -> None:
        """Flush what is queued (bounded: a dead broker must not hang shutdown), then release."""
        try:
            self.flush(self._close_timeout_s)
        finally:
            try:
                self._client.close(timeout=self._close_timeout_s)
            except _KAFKA_FAILURES as exc:
                raise translate(exc, "closing the producer") from exc


#: The shortest wait a poll is given. kafka-python 3.0 drives the group protocol
#: inside poll(); polls much shorter than a broker round trip (0-30 ms measured here)
#: can leave a join half done for good: the member never gets partitions again
#: and the stage stalls without an error (docs/reliability.md, finding 1).
MIN_POLL_S = 0.1
#: How long a readiness probe's answer is reused.
REACHABLE_TTL_S = 5.0


class KafkaBusConsumer:
    """A consumer-group member that commits only what it is told to."""

    def __init__(self, client: KafkaConsumer, timeout_ms: int) -> None:
        self._client = client
        self._timeout_ms = timeout_ms

    def poll(self, timeout_s: float, max_records: int = 500) -> Sequence[Record]:
        """Next records, partition by partition in offset order; empty if none arrive in time.

        Waits at least :data:`MIN_POLL_S`, whatever ``timeout_s`` says.
        """
        timeout_ms = int(max(timeout_s, MIN_POLL_S) * 1000)
        try:
            batches = self._client.poll(timeout_ms=timeout_ms, max_records=max_records)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, "polling") from exc
        return [_to_record(raw) for partition in sorted(batches) for raw in batches[partition]]

    def commit(self, records: Sequence[Record]) -> None:
        """Commit one past the newest given record per partition (no-op for none).

        Raises :class:`KafkaRetryable` when the group rebalanced meanwhile; the records
        are then redelivered to the partition's new owner.
        """
        offsets = _next_offsets(records)
        if not offsets:
            return
        try:
            self._client.commit(offsets=offsets, timeout_ms=self._timeout_ms)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, f"committing {len(records)} records") from exc

    def seek_back(self, record: Record) -> None:
        """Rewind the record's partition so the next poll returns it again.

        If the partition has moved to another member, nothing is done: the new owner
        resumes at the last commit, which is at or before this uncommitted record.
        """
        partition = TopicPartition(record.topic, record.partition)
        if partition not in self._client.assignment():
            return
        try:
            self._client.seek(partition, record.offset)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, f"seeking {record.topic}[{record.partition}]") from exc

    def lag(self) -> dict[tuple[str, int], int]:
        """End offset minus next read position for each partition this member holds."""
        assigned = sorted(self._client.assignment())
        if not assigned:
            return {}
        try:
            ends = self._client.end_offsets(assigned, timeout_ms=self._timeout_ms)
            positions = {
                tp: self._client.position(tp, timeout_ms=self._timeout_ms) for tp in assigned
            }
        except _KAFKA_FAILURES as exc:
            raise translate(exc, "measuring lag") from exc
        return {
            (tp.topic, tp.partition): max(0, ends[tp] - (positions[tp] or 0)) for tp in assigned
        }

    def close(self) -> None:
        """Leave the group without committing anything."""
        try:
            self._client.close(autocommit=False, timeout_ms=self._timeout_ms)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, "closing the consumer") from exc


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Passes kafka-python's rebalance callbacks (on its I/O thread) to a table reader."""

    def __init__(self, reader: KafkaTableReader) -> None:
        self._reader = reader

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._reader.revoked(list(revoked))

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._reader.assigned(list(assigned))


class _Relay(ConsumerRebalanceListener):  # type: ignore[misc]
    """Passes kafka-python's rebalance callbacks to a consumer's listener, as
    (topic, partition) pairs."""

    def __init__(self, listener: AssignmentListener) -> None:
        self._listener = listener

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._listener.revoked([(tp.topic, tp.partition) for tp in revoked])

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._listener.assigned([(tp.topic, tp.partition) for tp in assigned])


class KafkaTableReader(KafkaBusConsumer):
    """A group member that reads each partition it gets from the start and commits nothing.

    The rebalance callbacks run on kafka-python's I/O thread and must not block:
    they note the change and tell the listener. The next :meth:`poll` (on the
    caller's thread) rewinds the partitions gained and notes where they end.
    """

    def __init__(self, client: KafkaConsumer, timeout_ms: int, listener: AssignmentListener):
        super().__init__(client, timeout_ms)
        self._listener = listener
        self._lock = threading.Lock()
        #: Partitions gained and not yet rewound; where each held partition ended when gained.
        self._fresh: set[TopicPartition] = set()
        self._ends: dict[TopicPartition, int] = {}

    def assigned(self, partitions: list[TopicPartition]) -> None:
        with self._lock:
            self._fresh.update(partitions)
        self._listener.assigned([(tp.topic, tp.partition) for tp in partitions])

    def revoked(self, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._fresh.discard(tp)
                self._ends.pop(tp, None)
        self._listener.revoked([(tp.topic, tp.partition) for tp in partitions])

    def poll(self, timeout_s: float, max_records: int = 500) -> Sequence[Record]:
        """Next records; those of partitions just gained come again from their start."""
        records = super().poll(timeout_s, max_records)
        with self._lock:
            fresh, self._fresh = self._fresh, set()
        fresh &= set(self._client.assignment())
        if not fresh:
            return records
        try:
            self._client.seek_to_beginning(*fresh)
            ends = self._client.end_offsets(list(fresh), timeout_ms=self._timeout_ms)
        except _KAFKA_FAILURES as exc:
            with self._lock:
                self._fresh |= fresh
            raise translate(exc, "rewinding newly assigned partitions") from exc
        with self._lock:
            self._ends.update({tp: ends.get(tp, 0) for tp in fresh})
        return [r for r in records if TopicPartition(r.topic, r.partition) not in fresh]

    def caught_up(self) -> bool:
        """Whether every held partition is read up to where it ended when gained."""
        with self._lock:
            if self._fresh:
                return False
            ends = dict(self._ends)
        try:
            done = [tp for tp, end in ends.items()
                    if self._client.position(tp, timeout_ms=self._timeout_ms) >= end]
        except _KAFKA_FAILURES as exc:
            raise translate(exc, "reading positions") from exc
        with self._lock:
            for tp in done:
                if self._ends.get(tp) == ends[tp]:
                    del self._ends[tp]
            return not self._ends and not self._fresh


class RankedRangeAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
    """kafka-python's side of :func:`monitor.bus.assignor.ranked_ranges`; ``rank`` is
    the token of the process (the same for each of its consumers)."""

    name = "monitor-ranked-range"
    version = 0

    def __init__(self, rank: bytes) -> None:
        self.rank = rank

    def metadata(self, topics: Any) -> ConsumerProtocolSubscription:
        return ConsumerProtocolSubscription(self.version, sorted(topics), self.rank)

    def assign(self, cluster: Any, members: Any) -> dict[str, ConsumerProtocolAssignment]:
        subscribers = [
            Subscriber(m.member_id, bytes(m.metadata.user_data or b""), tuple(m.metadata.topics))
            for m in members
        ]
        topics = {topic for s in subscribers for topic in s.topics}
        known = {t: sorted(p) for t in topics if (p := cluster.partitions_for_topic(t))}
        return {
            member_id: ConsumerProtocolAssignment(self.version, sorted(by_topic.items()), b"")
            for member_id, by_topic in ranked_ranges(known, subscribers).items()
        }

    def on_assignment(self, assignment: Any, generation: Any) -> None:
        """Nothing to keep: the assignment depends on the members alone."""


class KafkaBus:
    """The :class:`~monitor.bus.base.Bus` on a Kafka cluster described by ``settings``."""

    name = "kafka"

    def __init__(self, settings: KafkaSettings, *, sleep: Callable[[float], None] = time.sleep):
        self._settings = settings
        self._sleep = sleep
        #: This process's rank in every group it joins (monitor.bus.assignor): one
        #: token for all its consumers, random so that processes are ranked apart.
        self._rank = uuid.uuid4().hex.encode()
        self._admin: KafkaAdminClient | None = None
        #: When the brokers were last probed for readiness, and the answer.
        self._reachable: tuple[float, bool] | None = None

    @property
    def settings(self) -> KafkaSettings:
        return self._settings

    def producer(self) -> KafkaBusProducer:
        """A new idempotent producer (acks=all); raises BrokerUnavailable if none answers."""
        config = self._settings.client_config() | {
            "acks": "all",
            "enable_idempotence": True,
            "metrics_enabled": False,
            "linger_ms": self._settings.linger_ms,
            "max_block_ms": self._settings.request_timeout_ms,
        }
        client = self._connect("producer", lambda: KafkaProducer(**config))
        return KafkaBusProducer(client, close_timeout_s=self._settings.request_timeout_ms / 1000)

    def consumer(
        self, topics: Sequence[str], group: str, listener: AssignmentListener | None = None
    ) -> KafkaBusConsumer:
        """A new member of ``group`` subscribed to ``topics``, with manual commits only;
        ``listener`` hears what it gains and loses."""
        config = self._group_config(group)
        if listener is None:
            client = self._connect(
                f"consumer for group {group}", lambda: KafkaConsumer(*topics, **config)
            )
            return KafkaBusConsumer(client, self._settings.request_timeout_ms)
        client = self._connect(f"consumer for group {group}", lambda: KafkaConsumer(**config))
        try:
            client.subscribe(list(topics), listener=_Relay(listener))
        except _KAFKA_FAILURES as exc:
            client.close(autocommit=False)
            raise translate(exc, f"subscribing to {', '.join(topics)}") from exc
        return KafkaBusConsumer(client, self._settings.request_timeout_ms)

    def table_reader(
        self, topic: str, group: str, listener: AssignmentListener
    ) -> KafkaTableReader:
        """A new member of ``group`` reading its partitions of ``topic`` from the start."""
        config = self._group_config(group) | {"auto_offset_reset": "earliest"}
        client = self._connect(f"table reader for group {group}", lambda: KafkaConsumer(**config))
        reader = KafkaTableReader(client, self._settings.request_timeout_ms, listener)
        try:
            client.subscribe([topic], listener=_Rebalance(reader))
        except _KAFKA_FAILURES as exc:
            client.close(autocommit=False)
            raise translate(exc, f"subscribing to {topic}") from exc
        return reader

    def _group_config(self, group: str) -> dict[str, Any]:
        s = self._settings
        return s.client_config() | {
            "metrics_enabled": False,
            "group_id": group,
            "enable_auto_commit": False,
            "auto_offset_reset": s.auto_offset_reset,
            "session_timeout_ms": s.session_timeout_ms,
            "heartbeat_interval_ms": s.heartbeat_interval_ms,
            "max_poll_interval_ms": s.max_poll_interval_ms,
            "max_poll_records": s.max_poll_records,
            # Ranked ranges; members of a group that do not offer them agree on range.
            "partition_assignment_strategy": (RankedRangeAssignor(self._rank),
                                              RangePartitionAssignor),
        }

    def read_all(self, topic: str, timeout_s: float) -> list[Record]:
        """Every record of ``topic`` up to its present end, with assigned partitions and
        no group: nothing is joined or committed, no group is disturbed."""
        deadline = time.monotonic() + timeout_s
        config = self._settings.client_config() | {"enable_auto_commit": False}
        reader = self._connect(f"reader of {topic}", lambda: KafkaConsumer(**config))
        try:
            return self._read_to_end(reader, topic, deadline)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, f"reading {topic}") from exc
        finally:
            try:
                reader.close(autocommit=False)
            except _KAFKA_FAILURES as exc:
                log.debug("kafka: closing the reader of %s failed: %s", topic, exc)

    def read_partition(self, topic: str, partition: int, timeout_s: float) -> list[Record]:
        """Every record of ``topic``'s ``partition`` up to its present end, assigned
        directly: no group is joined or disturbed."""
        deadline = time.monotonic() + timeout_s
        config = self._settings.client_config() | {"enable_auto_commit": False}
        reader = self._connect(f"reader of {topic}", lambda: KafkaConsumer(**config))
        try:
            return self._read_to_end(reader, topic, deadline, only=partition)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, f"reading {topic}[{partition}]") from exc
        finally:
            try:
                reader.close(autocommit=False)
            except _KAFKA_FAILURES as exc:
                log.debug("kafka: closing the reader of %s failed: %s", topic, exc)

    def _read_to_end(
        self, reader: KafkaConsumer, topic: str, deadline: float, only: int | None = None
    ) -> list[Record]:
        numbers = sorted(reader.partitions_for_topic(topic) or ())
        if only is not None:
            numbers = [p for p in numbers if p == only]
        partitions = [TopicPartition(topic, p) for p in numbers]
        if not partitions:
            return []
        timeout_ms = self._settings.request_timeout_ms
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        ends = reader.end_offsets(partitions, timeout_ms=timeout_ms)
        found: dict[TopicPartition, list[Record]] = {tp: [] for tp in partitions}
        while any(reader.position(tp, timeout_ms=timeout_ms) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise BrokerUnavailable(f"kafka: {topic} was not read to its end in time")
            for tp, raws in reader.poll(timeout_ms=500).items():
                found[tp].extend(_to_record(raw) for raw in raws if raw.offset < ends[tp])
        return [record for tp in partitions for record in found[tp]]

    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create the missing topics with the configured partitions and replication.

        Existing topics are left as they are; returns once every new topic has a leader.
        """
        if not topics:
            return
        admin = self._admin_client()
        spec = {
            "num_partitions": self._settings.partitions,
            "replication_factor": self._settings.replication_factor,
        }
        try:
            result = admin.create_topics(
                {topic: spec for topic in topics},
                timeout_ms=self._settings.request_timeout_ms,
                raise_errors=False,
            )
            created = self._created_topics(result)
            admin.wait_for_topics(created, timeout_ms=self._settings.request_timeout_ms)
        except _KAFKA_FAILURES as exc:
            raise translate(exc, f"creating topics {', '.join(topics)}") from exc
        if created:
            log.info("kafka: created topics %s", ", ".join(created))

    def ensure_compacted_topic(self, topic: str) -> None:
        """Create ``topic`` with ``cleanup.policy=compact``, or set that policy on it."""
        admin = self._admin_client()
        timeout_ms = self._settings.request_timeout_ms
        spec = {
            "num_partitions": self._settings.partitions,
            "replication_factor": self._settings.replication_factor,
            "configs": {"cleanup.policy": "compact"},
        }
        try:
            created = self._created_topics(
                admin.create_topics({topic: spec}, timeout_ms=timeout_ms, raise_errors=False)
            )
            if created:
                admin.wait_for_topics(created, timeout_ms=timeout_ms)
                return
            policy = ConfigResource(ConfigResourceType.TOPIC, topic, {"cleanup.policy": "compact"})
            result = admin.alter_configs([policy])
        except _KAFKA_FAILURES as exc:
            raise translate(exc, f"making {topic} compacted") from exc
        answer = result.get("topic", {}).get(topic, "OK")
        if answer != "OK":
            raise KafkaPermanent(f"kafka: making {topic} compacted failed: {answer}")

    @staticmethod
    def _created_topics(result: Mapping[str, Any]) -> list[str]:
        created = []
        for topic in result["topics"]:
            code = topic["error_code"]
            if code == 0:
                created.append(topic["name"])
            elif code != _TOPIC_ALREADY_EXISTS:
                raise kafka_errors.for_code(code)(f"{topic['name']}: {topic.get('error_message')}")
        return created

    def reachable(self) -> bool:
        """Whether a broker answers, probed at most every :data:`REACHABLE_TTL_S`.

        One bounded bootstrap (``bootstrap_timeout_ms``) with a throw-away client:
        the clients in use reconnect on their own and do not say whether they
        are connected.
        """
        now = time.monotonic()
        if self._reachable is None or now - self._reachable[0] >= REACHABLE_TTL_S:
            self._reachable = (now, self._probe())
        return self._reachable[1]

    def _probe(self) -> bool:
        try:
            KafkaProducer(**self._settings.client_config(), enable_idempotence=False).close(
                timeout=1
            )
        except _KAFKA_FAILURES as exc:
            log.debug("kafka: readiness probe failed: %s", exc)
            return False
        return True

    def close(self) -> None:
        """Close the shared admin connection, if one was opened."""
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except _KAFKA_FAILURES as exc:
                raise translate(exc, "closing the admin client") from exc

    def _admin_client(self) -> KafkaAdminClient:
        if self._admin is None:
            config = self._settings.client_config()
            self._admin = self._connect("admin client", lambda: KafkaAdminClient(**config))
        return self._admin

    def _connect(self, what: str, build: Callable[[], _Client]) -> _Client:
        """Build a client once a broker answers, trying a bounded number of times.

        A throw-away producer probes first because, unlike the consumer and admin
        clients, it leaves no I/O thread behind when the bootstrap fails.
        """
        s = self._settings
        last_failure: Exception | None = None
        for attempt in range(1, s.connect_attempts + 1):
            try:
                KafkaProducer(**s.client_config(), enable_idempotence=False).close(timeout=1)
            except _CONNECT_FAILURES as exc:
                last_failure = exc
                log.debug("kafka: connect attempt %d for the %s failed: %s", attempt, what, exc)
                if attempt < s.connect_attempts:
                    self._sleep(s.connect_backoff_ms / 1000)
                continue
            except _KAFKA_FAILURES as exc:
                raise translate(exc, f"connecting the {what}") from exc
            try:
                return build()
            except _KAFKA_FAILURES as exc:
                raise translate(exc, f"creating the {what}") from exc
        servers = ",".join(s.bootstrap_servers)
        raise BrokerUnavailable(
            f"kafka: no broker answered at {servers} within {s.connect_budget_s:.1f} s"
            f" ({s.connect_attempts} attempts)"
        ) from last_failure


if TYPE_CHECKING:  # mypy proves KafkaBus (and the clients it returns) meet the protocols
    _protocol_check: Bus = KafkaBus(KafkaSettings())
