"""Several pollers, one feed list: feeds shared through a compacted topic on the bus.

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
partitions from the beginning, which compaction keeps short (the bus's
:meth:`~monitor.bus.base.Bus.table_reader` does both). Assignment callbacks
may run on the transport's I/O thread and must not block, so they only note
the change; ``refresh`` does the rest. Everything here is pure bookkeeping
over the :class:`~monitor.bus.base.Bus` protocol, so it runs the same on the
embedded bus as on Kafka.

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
from typing import Protocol

from monitor.bus.base import Bus, Record, TopicPartition
from monitor.errors import MonitorError
from monitor.feeds.settings import FeedConfig
from monitor.feeds.state import FeedState
from monitor.feeds.store import state_from_json, state_to_json
from monitor.text import one_line

log = logging.getLogger("monitor.feeds.sharing")

#: What a member owns: feed id → (definition, last state written, if any).
Owned = dict[str, tuple[FeedConfig, FeedState | None]]
#: Feeds read from the topic: feed id → (definition, state, if any).
Entries = dict[str, tuple[FeedConfig, FeedState | None]]
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
        log.warning("feeds topic: skipping an unreadable record: %s", one_line(exc))
        return None


class SharedFeedBoard:
    """A :class:`FeedBoard` on a compacted topic of ``bus`` and a consumer group."""

    def __init__(self, bus: Bus, topic: str, group: str) -> None:
        self._bus = bus
        self._topic = topic
        self._lock = threading.Lock()
        self._records: dict[TopicPartition, Entries] = {}
        #: Per partition, the keys whose latest record read is a tombstone.
        self._removed: dict[TopicPartition, set[str]] = {}
        #: Records in force to write again over stale saves (``None``: a tombstone).
        self._repairs: list[tuple[str, bytes | None]] = []
        self._changed = False
        bus.ensure_compacted_topic(topic)
        self._producer = bus.producer()
        try:
            self._reader = bus.table_reader(topic, group, self)
        except MonitorError:
            self._producer.close()
            raise

    # -- assignment callbacks (may run on the transport's I/O thread: note only) --
    def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._records.pop(tp, None)
                self._removed.pop(tp, None)
            self._changed = True
        log.info("feeds: partitions revoked: %s", sorted(p for _, p in partitions))

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._records[tp] = {}
                self._removed[tp] = set()
            self._changed = True
        log.info("feeds: partitions assigned: %s", sorted(p for _, p in partitions))

    # -- FeedBoard ----------------------------------------------------------------
    def refresh(self, timeout_s: float) -> Owned | None:
        """Read news for up to ``timeout_s``; the owned feeds once every partition held
        is read to where it ended when assigned, if they changed."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._apply(self._reader.poll(max(0.0, deadline - time.monotonic())))
            self._repair()
            loading = not self._reader.caught_up()
            if not loading or time.monotonic() >= deadline:
                break
        with self._lock:
            if loading or not self._changed:
                return None
            self._changed = False
            return {
                fid: entry for records in self._records.values() for fid, entry in records.items()
            }

    def _apply(self, records: Sequence[Record]) -> None:
        with self._lock:
            for record in records:
                owned = self._records.get((record.topic, record.partition))
                if owned is None:
                    continue
                removed = self._removed.setdefault((record.topic, record.partition), set())
                self._apply_one(owned, removed, record)

    def _apply_one(self, owned: Entries, removed: set[str], record: Record) -> None:
        key = record.key or ""
        if record.tombstone:
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
            self._write(key, value)

    def _write(self, key: str, value: bytes | None) -> None:
        if value is None:
            self._producer.tombstone(self._topic, key)
        else:
            self._producer.send(self._topic, key, value)

    def save(self, feed: FeedConfig, state: FeedState) -> None:
        self._producer.send(self._topic, feed.id, encode_record(feed, state))

    def sync(self, feeds: Sequence[FeedConfig]) -> None:
        current = read_definitions(self._bus, self._topic)
        wanted = {feed.id: feed for feed in feeds}
        for fid, feed in wanted.items():
            if current.get(fid) != feed:
                self._write(fid, encode_record(feed, None))
        for fid in current.keys() - wanted.keys():
            self._write(fid, None)
        self._producer.flush()

    def close(self) -> None:
        try:
            self._producer.close()
        except MonitorError as exc:
            log.warning("feeds topic %s: last states not written: %s", self._topic, exc)
        finally:
            self._reader.close()


#: How long reading the whole feeds topic may take before the broker counts as unavailable.
READ_ALL_TIMEOUT_S = 60.0


def newest_per_key(records: Iterable[tuple[str | None, bytes | None]]) -> Entries:
    """Each feed's newest definition and state from ``(key, value)`` records in
    topic order, as compaction would leave them: a tombstone (``None`` value)
    or an unreadable value removes the key."""
    found: Entries = {}
    for key, value in records:
        name = key or ""
        decoded = decode_record(value) if value is not None else None
        if decoded is None:
            found.pop(name, None)
        else:
            found[name] = decoded
    return found


def read_feed_records(bus: Bus, topic: str, timeout_s: float = READ_ALL_TIMEOUT_S) -> Entries:
    """Every feed on the topic with its newest state (all partitions, read to the end).

    Reads without a consumer group, so the pollers' group is not disturbed.
    Raises :class:`~monitor.errors.BrokerUnavailable` when the end is not
    reached within ``timeout_s`` (other bus failures as the bus sorts them).
    """
    records = bus.read_all(topic, timeout_s)
    return newest_per_key((r.key, None if r.tombstone else r.value) for r in records)


def read_definitions(bus: Bus, topic: str) -> dict[str, FeedConfig]:
    """Every feed definition currently on the topic (reads all partitions to the end)."""
    return {fid: feed for fid, (feed, _) in read_feed_records(bus, topic).items()}


__all__ = [
    "FeedBoard", "LocalFeedBoard", "Owned", "SharedFeedBoard", "newest_per_key",
    "read_feed_records",
]
