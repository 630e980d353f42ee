"""Several pollers, one feed list: feeds shared through a compacted Kafka topic.

The ``feeds`` topic holds one record per feed, keyed by feed id: the feed's
definition and its latest poll state (validators, schedule, recent article
ids). Pollers join one consumer group on that topic; Kafka assigns each
partition to one member, and a member polls exactly the feeds whose records
live in its partitions. After every poll the owner writes the feed's new
state back under the same key, so when a poller dies its partitions, and
with them the feeds' state, move to a survivor within the session timeout.
A member that gets a feed (back) takes the state from the topic unless its
own is more recent (``monitor.feeds.role.adopted_state``): after a restart
its SQLite store may be hours behind the poller that had the feed meanwhile.
Offsets are never committed: on every assignment a member reads its
partitions from the beginning, which compaction keeps short. Rebalance
callbacks run on kafka-python's I/O thread and must not block, so they only
note the change; ``refresh`` does the rest.

``sync`` writes the configured feed list onto the topic: a record without
state for each new or moved feed, a tombstone for each removed one. Owners
keep their state for a feed whose definition did not change.

A poll that was under way when its feed was removed or moved can end before
its owner has read that news, and ``save`` then writes the old definition
with its state after the tombstone or the new definition. Read naively, that
record brings the feed (or its old address) back. So a member ignores a
record carrying state whose definition is not the one in force for its key
(the latest tombstone or definition read from that partition) and writes the
record in force again, so the topic's newest record for the key is right.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from monitor.bus.settings import KafkaSettings
from monitor.errors import BrokerUnavailable
from monitor.feeds.settings import FeedConfig
from monitor.feeds.state import FeedState
from monitor.feeds.store import state_from_json, state_to_json

log = logging.getLogger("monitor.feeds.sharing")

#: What a member owns: feed id → (definition, last state written, if any).
Owned = dict[str, tuple[FeedConfig, FeedState | None]]
SCHEMA = "feed/1"


class FeedBoard(Protocol):
    """Where pollers that share a feed list find their feeds and keep state."""

    def sync(self, feeds: Sequence[FeedConfig]) -> None:
        """Make the shared list equal ``feeds`` (add, move, remove)."""

    def refresh(self, timeout_s: float) -> Owned | None:
        """Read news; return the owned feeds when they changed, else None."""

    def save(self, feed: FeedConfig, state: FeedState) -> None:
        """Record a feed's new state where the next owner will find it."""

    def close(self) -> None:
        """Leave the group; another member takes the feeds over."""


class LocalFeedBoard:
    """The in-process board: one poller owns every configured feed.

    State stays in the poller's own SQLite store, so ``save`` has nothing to
    do; ``sync`` (at start and on reload, from any thread) hands the new list
    to the next ``refresh``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._feeds: tuple[FeedConfig, ...] | None = None

    def sync(self, feeds: Sequence[FeedConfig]) -> None:
        with self._lock:
            self._feeds = tuple(feeds)

    def refresh(self, timeout_s: float) -> Owned | None:
        with self._lock:
            feeds, self._feeds = self._feeds, None
        return None if feeds is None else {feed.id: (feed, None) for feed in feeds}

    def save(self, feed: FeedConfig, state: FeedState) -> None:
        pass

    def close(self) -> None:
        pass


def encode_record(feed: FeedConfig, state: FeedState | None) -> bytes:
    value = {
        "schema": SCHEMA,
        "feed": feed.model_dump(mode="json"),
        "state": json.loads(state_to_json(state)) if state is not None else None,
    }
    return json.dumps(value, separators=(",", ":")).encode()


def decode_record(raw: bytes) -> tuple[FeedConfig, FeedState | None] | None:
    """Definition and state from a record value; None for anything unreadable."""
    try:
        value = json.loads(raw)
        if value.get("schema") != SCHEMA:
            return None
        feed = FeedConfig.model_validate(value["feed"])
        state = value.get("state")
        return feed, state_from_json(json.dumps(state)) if state else None
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("feeds topic: skipping an unreadable record: %s", str(exc).splitlines()[0])
        return None


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, board: KafkaFeedBoard) -> None:
        self._board = board

    def on_partitions_revoked(self, revoked: Any) -> None:
        self._board.revoked(list(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._board.assigned(list(assigned))


class KafkaFeedBoard:
    """A :class:`FeedBoard` on a compacted Kafka topic and a consumer group."""

    def __init__(
        self, settings: KafkaSettings, topic: str, group: str, partitions: int | None = None
    ) -> None:
        self._settings = settings
        self._topic = topic
        self._lock = threading.Lock()
        self._records: dict[TopicPartition, dict[str, tuple[FeedConfig, FeedState | None]]] = {}
        #: Per partition, the keys whose latest record read is a tombstone.
        self._removed: dict[TopicPartition, set[str]] = {}
        #: Records in force to write again over stale saves (``None``: a tombstone).
        self._repairs: list[tuple[str, bytes | None]] = []
        self._loading: dict[TopicPartition, int] = {}
        self._unmeasured: set[TopicPartition] = set()
        self._changed = False
        try:
            ensure_compacted_topic(settings, topic, partitions or settings.partitions)
            self._producer = KafkaProducer(
                **settings.client_config(), acks="all", linger_ms=settings.linger_ms
            )
            self._consumer = KafkaConsumer(
                **settings.client_config(),
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=settings.session_timeout_ms,
                heartbeat_interval_ms=settings.heartbeat_interval_ms,
                max_poll_interval_ms=settings.max_poll_interval_ms,
            )
        except KafkaError as exc:
            raise BrokerUnavailable(f"feeds topic {topic}: {exc}") from exc
        self._consumer.subscribe([topic], listener=_Listener(self))

    # -- rebalance callbacks (run inside consumer.poll, on the caller's thread) --
    def revoked(self, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._records.pop(tp, None)
                self._removed.pop(tp, None)
                self._loading.pop(tp, None)
                self._unmeasured.discard(tp)
            self._changed = True
        log.info("feeds: partitions revoked: %s", sorted(tp.partition for tp in partitions))

    def assigned(self, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._records[tp] = {}
                self._removed[tp] = set()
                self._unmeasured.add(tp)
            self._changed = True
        log.info("feeds: partitions assigned: %s", sorted(tp.partition for tp in partitions))

    def _measure_new_partitions(self) -> None:
        """Note where each newly assigned partition ends: it is loaded once read so far."""
        with self._lock:
            fresh = list(self._unmeasured)
            self._unmeasured.clear()
        if not fresh:
            return
        # A partition kept across a rebalance keeps its position (at the end);
        # its feeds were forgotten on revocation, so read it again from the start.
        self._consumer.seek_to_beginning(*fresh)
        ends = self._consumer.end_offsets(fresh)
        with self._lock:
            for tp in fresh:
                if tp in self._records and ends.get(tp, 0) > 0:
                    self._loading[tp] = ends[tp]

    def _still_loading(self) -> bool:
        with self._lock:
            loading = list(self._loading.items())
        done = [tp for tp, end in loading if self._consumer.position(tp) >= end]
        with self._lock:
            for tp in done:
                self._loading.pop(tp, None)
            return bool(self._loading or self._unmeasured)

    # -- FeedBoard ----------------------------------------------------------------
    def refresh(self, timeout_s: float) -> Owned | None:
        try:
            return self._refresh(timeout_s)
        except KafkaError as exc:
            raise BrokerUnavailable(f"feeds topic {self._topic}: {exc}") from exc

    def _refresh(self, timeout_s: float) -> Owned | None:
        deadline = time.monotonic() + timeout_s
        while True:
            batches = self._consumer.poll(
                timeout_ms=int(max(0.0, deadline - time.monotonic()) * 1000)
            )
            self._apply(batches)
            self._repair()
            self._measure_new_partitions()
            loading = self._still_loading()
            if not loading or time.monotonic() >= deadline:
                break
        with self._lock:
            if loading or not self._changed:
                return None
            self._changed = False
            return {
                fid: entry for records in self._records.values() for fid, entry in records.items()
            }

    def _apply(self, batches: dict[TopicPartition, list[Any]]) -> None:
        with self._lock:
            for tp, records in batches.items():
                owned = self._records.get(tp)
                if owned is None:
                    continue
                removed = self._removed.setdefault(tp, set())
                for record in records:
                    self._apply_one(owned, removed, record)

    def _apply_one(
        self, owned: dict[str, tuple[FeedConfig, FeedState | None]], removed: set[str],
        record: Any,
    ) -> None:
        key = record.key.decode() if record.key else ""
        if record.value is None:
            removed.add(key)
            if owned.pop(key, None) is not None:
                self._changed = True
            return
        decoded = decode_record(record.value)
        if decoded is None:
            return
        previous = owned.get(key)
        if decoded[1] is not None and (
            key in removed or (previous is not None and previous[0] != decoded[0])
        ):
            # A save from a poll under way when the feed was removed or moved.
            log.info("feeds: feed %s: ignoring the state of a poll of a removed or "
                     "changed definition", key, extra={"feed_id": key})
            self._repairs.append(
                (key, None if previous is None else encode_record(*previous))
            )
            return
        removed.discard(key)
        owned[key] = decoded
        if previous is None or previous[0] != decoded[0]:
            self._changed = True

    def _repair(self) -> None:
        """Write the records in force again over the stale saves just read."""
        with self._lock:
            repairs, self._repairs = self._repairs, []
        for key, value in repairs:
            self._producer.send(self._topic, key=key.encode(), value=value)

    def save(self, feed: FeedConfig, state: FeedState) -> None:
        try:
            self._producer.send(self._topic, key=feed.id.encode(), value=encode_record(feed, state))
        except KafkaError as exc:
            raise BrokerUnavailable(f"feeds topic {self._topic}: {exc}") from exc

    def sync(self, feeds: Sequence[FeedConfig]) -> None:
        try:
            self._sync(feeds)
        except KafkaError as exc:
            raise BrokerUnavailable(f"feeds topic {self._topic}: {exc}") from exc

    def _sync(self, feeds: Sequence[FeedConfig]) -> None:
        current = read_definitions(self._settings, self._topic)
        wanted = {feed.id: feed for feed in feeds}
        for fid, feed in wanted.items():
            if current.get(fid) != feed:
                self._producer.send(self._topic, key=fid.encode(), value=encode_record(feed, None))
        for fid in current.keys() - wanted.keys():
            self._producer.send(self._topic, key=fid.encode(), value=None)
        self._producer.flush()

    def close(self) -> None:
        try:
            self._producer.flush(timeout=5)
            self._producer.close(timeout=5)
        except KafkaError as exc:
            log.warning("feeds topic %s: last states not written: %s", self._topic, exc)
        finally:
            self._consumer.close(autocommit=False)


#: How long reading the whole feeds topic may take before the broker counts as unavailable.
READ_ALL_TIMEOUT_S = 60.0
Entries = dict[str, tuple[FeedConfig, FeedState | None]]


def newest_per_key(records: Iterable[tuple[bytes | None, bytes | None]]) -> Entries:
    """Each feed's newest definition and state from ``(key, value)`` records in
    topic order, as compaction would leave them: a tombstone (``None`` value)
    or an unreadable value removes the key."""
    found: Entries = {}
    for key, value in records:
        name = key.decode(errors="replace") if key else ""
        decoded = decode_record(value) if value is not None else None
        if decoded is None:
            found.pop(name, None)
        else:
            found[name] = decoded
    return found


def read_feed_records(
    settings: KafkaSettings, topic: str, timeout_s: float = READ_ALL_TIMEOUT_S
) -> Entries:
    """Every feed on the topic with its newest state (all partitions, read to the end).

    Reads with manually assigned partitions and no consumer group, so nothing
    is joined or committed and the pollers' group is not disturbed. Raises
    :class:`BrokerUnavailable` when the broker fails or the end is not reached
    within ``timeout_s``.
    """
    try:
        return newest_per_key(_all_records(settings, topic, time.monotonic() + timeout_s))
    except KafkaError as exc:
        raise BrokerUnavailable(f"feeds topic {topic}: {exc}") from exc


def _all_records(
    settings: KafkaSettings, topic: str, deadline: float
) -> list[tuple[bytes | None, bytes | None]]:
    reader = KafkaConsumer(**settings.client_config(), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or ()]
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        ends = reader.end_offsets(partitions)
        by_partition: dict[TopicPartition, list[tuple[bytes | None, bytes | None]]] = {
            tp: [] for tp in partitions
        }
        while any(reader.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise BrokerUnavailable(f"feeds topic {topic}: not read to the end in time")
            for tp, records in reader.poll(timeout_ms=500).items():
                by_partition[tp].extend((r.key, r.value) for r in records)
        # A key lives in one partition, so partition order does not matter.
        return [record for tp in partitions for record in by_partition[tp]]
    finally:
        reader.close()


def read_definitions(settings: KafkaSettings, topic: str) -> dict[str, FeedConfig]:
    """Every feed definition currently on the topic (reads all partitions to the end)."""
    return {fid: feed for fid, (feed, _) in read_feed_records(settings, topic).items()}


def ensure_compacted_topic(settings: KafkaSettings, topic: str, partitions: int) -> None:
    """Create the feeds topic with ``cleanup.policy=compact``, or make it compacted."""
    admin = KafkaAdminClient(**settings.client_config())
    try:
        spec = NewTopic(topic, partitions, settings.replication_factor,
                        topic_configs={"cleanup.policy": "compact"})
        try:
            admin.create_topics([spec])
        except TopicAlreadyExistsError:
            admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, {"cleanup.policy": "compact"})]
            )
    finally:
        admin.close()


__all__ = [
    "FeedBoard", "KafkaFeedBoard", "LocalFeedBoard", "Owned", "newest_per_key", "read_feed_records",
]
