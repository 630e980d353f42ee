"""Pollers share one feed list through a compacted topic; a dead poller's feeds move.

The board is bus logic only, so most of this runs on the in-process bus; the
tests marked ``kafka`` run it on a real broker (a killed poller process, the
``feeds status`` command, and the stale-save race).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.bus.base import Bus
from monitor.bus.codec import decode
from monitor.bus.kafka import KafkaBus
from monitor.bus.memory import MemoryBus
from monitor.bus.settings import KafkaSettings
from monitor.cli import cli
from monitor.clock import SystemClock
from monitor.config import BusSettings, GroupNames, Settings
from monitor.feeds.fetcher import Fetcher, FetchRequest, FetchResult, HttpxFetcher
from monitor.feeds.role import PollerRole, adopted_state
from monitor.feeds.settings import FeedConfig, PollerSettings
from monitor.feeds.sharing import (
    Owned,
    SharedFeedBoard,
    decode_record,
    encode_record,
    read_feed_records,
)
from monitor.feeds.state import FeedState, new_state
from monitor.feeds.store import PollerStore
from monitor.messages import Article
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.feeds.builders import rss
from tests.feeds.helpers import Poller
from tests.feeds.httpserver import FeedServer, Reply, Request
from tests.kafka_broker import KafkaTopics
from tests.support import MonitorProcess, wait_for, write_config

FEEDS = 6
#: The feeds topic of pollers on the in-process bus (the default name).
FEEDS_TOPIC = Settings().bus.topics.feeds


def eventually(check: Callable[[], bool], limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def story(feed: int, n: int) -> dict[str, str]:
    return {"link": f"https://wire.example/{feed}/{n}", "title": f"Feed {feed} story {n}",
            "content": f"<p>{feed}/{n}</p>"}


def test_record_round_trip() -> None:
    feed = FeedConfig(id="f", url="https://a.example/feed")  # type: ignore[arg-type]
    state = new_state("f", "https://a.example/feed", 5.0)
    assert decode_record(encode_record(feed, state)) == (feed, state)
    assert decode_record(encode_record(feed, None)) == (feed, None)
    assert decode_record(b"not json") is None


class ScriptedBoard:
    """A feed board that hands out one fixed share, with the given carried states."""

    def __init__(self, owned: Owned) -> None:
        self._owned: Owned | None = owned

    def sync(self, feeds: Sequence[FeedConfig]) -> None:
        pass

    def refresh(self, timeout_s: float) -> Owned | None:
        owned, self._owned = self._owned, None
        return owned

    def save(self, feed: FeedConfig, state: FeedState) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("local_at", "carried_at", "winner"),
    [(100.0, 200.0, "carried"), (200.0, 200.0, "carried"), (200.0, 100.0, "local"),
     (None, 100.0, "carried"), (100.0, None, "local")],
)
def test_a_restarted_poller_prefers_the_newer_carried_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    local_at: float | None, carried_at: float | None, winner: str,
) -> None:
    url = "https://a.example/feed"
    feed = FeedConfig(id="f", url=url)  # type: ignore[arg-type]
    local = dataclasses.replace(new_state("f", url, 0.0), etag='"local"', last_poll_at=local_at)
    carried = dataclasses.replace(local, etag='"carried"', last_poll_at=carried_at)
    settings = Settings(feeds=(feed,), state_dir=tmp_path / "state", config_dir=tmp_path)
    store = PollerStore.in_state_dir(settings.state_dir)
    store.save_state(local, "ok")  # what this poller remembers from before its restart
    store.close()
    board = ScriptedBoard({"f": (feed, carried)})
    monkeypatch.setattr(PollerRole, "_feed_board", lambda self, settings: board)
    role = PollerRole(RoleContext(settings, MemoryBus(), Metrics(), SystemClock()))
    try:
        assert role.feed_states["f"] == {"local": local, "carried": carried}[winner]
    finally:
        role.close()


def test_a_carried_state_of_another_address_is_not_adopted(tmp_path: Path) -> None:
    feed = FeedConfig(id="f", url="https://new.example/feed")  # type: ignore[arg-type]
    old = dataclasses.replace(new_state("f", "https://old.example/feed", 0.0), last_poll_at=9.0)
    fresh = adopted_state(feed, None, old, now=50.0)
    assert (fresh.config_url, fresh.next_poll_at, fresh.last_poll_at) == (
        "https://new.example/feed", 50.0, None
    )


def shared_settings(
    tmp: Path, name: str, server: FeedServer, kafka: KafkaSettings | None = None,
    topics: KafkaTopics | None = None,
) -> Settings:
    """A poller on the shared list; without ``kafka`` for a role given an in-process bus."""
    bus = BusSettings(kind="kafka")
    if kafka is not None and topics is not None:
        bus = BusSettings(
            kind="kafka",
            kafka=kafka.model_copy(update={"session_timeout_ms": 6000,
                                           "heartbeat_interval_ms": 500}),
            topics=topics.names,
            groups=GroupNames(poller=topics.group("poller"),
                              publisher=topics.group("publisher")),
        )
    return Settings(
        bus=bus,
        poller=PollerSettings(
            sharing="kafka", allow_private_addresses=True, per_host_delay_s=0.0,
            per_host_concurrency=8, min_interval_s=0.5, default_interval_s=0.5,
            interval_jitter=0.0,
        ),
        feeds=tuple(FeedConfig(id=f"f{i}", url=server.url(f"/f{i}"))  # type: ignore[arg-type]
                    for i in range(FEEDS)),
        state_dir=tmp / name,
        config_dir=tmp,
    )


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        for i in range(FEEDS):
            running.routes[f"/f{i}"] = Reply(200, rss([story(i, 1)]))
        yield running


def test_two_pollers_split_the_feeds_and_one_takes_over(
    server: FeedServer, tmp_path: Path
) -> None:
    bus = MemoryBus(partitions=3)
    reader = bus.consumer([Settings().bus.topics.articles], group="reader")
    seen: list[Article] = []

    def articles() -> list[Article]:
        seen.extend(decode(r.value, Article) for r in reader.poll(0.2))
        return seen

    roles, stops, threads = [], [], []
    for name in ("a", "b"):
        settings = shared_settings(tmp_path, name, server)
        role = Poller(settings, bus)
        stop = threading.Event()
        thread = threading.Thread(target=role.run, args=(stop,))
        thread.start()
        roles.append(role)
        stops.append(stop)
        threads.append(thread)
    a, b = roles
    try:
        eventually(lambda: len(articles()) >= FEEDS)

        def split() -> bool:
            owned_a, owned_b = set(a.feed_states), set(b.feed_states)
            return bool(owned_a) and bool(owned_b) and not owned_a & owned_b and (
                len(owned_a | owned_b) == FEEDS
            )

        eventually(split)
        from_a = sorted(a.feed_states)
        moving = from_a[0]
        # Let a few polls happen on both sides, so state is written back.
        hits = len(server.hits(f"/{moving}"))
        eventually(lambda: len(server.hits(f"/{moving}")) >= hits + 2)

        stops[0].set()
        threads[0].join(timeout=20)
        a.close()
        eventually(lambda: len(b.feed_states) == FEEDS)

        index = int(moving[1:])
        server.routes[f"/{moving}"] = Reply(200, rss([story(index, 2), story(index, 1)]))
        eventually(lambda: len(articles()) >= FEEDS + 1)
        hits = len(server.hits(f"/{moving}"))
        eventually(lambda: len(server.hits(f"/{moving}")) >= hits + 3)
        titles = [article.title for article in articles()]
        assert sorted(titles) == sorted(
            [f"Feed {i} story 1" for i in range(FEEDS)] + [f"Feed {index} story 2"]
        )
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=20)
        b.close()
        reader.close()
        bus.close()


@pytest.mark.kafka
def test_a_killed_pollers_feeds_are_taken_over_with_their_state(
    server: FeedServer, tmp_path: Path, kafka_settings: KafkaSettings, kafka_topics: KafkaTopics
) -> None:
    """Poller A is a separate ``monitor run`` process killed with SIGKILL (no
    goodbye to the group); B takes its feeds after the session timeout and does
    not publish A's articles again."""
    session = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500}
    config = write_config(
        tmp_path / "a",
        feeds=[(f"f{i}", server.url(f"/f{i}")) for i in range(FEEDS)],
        bus={
            "kind": "kafka",
            "kafka": {"bootstrap_servers": ",".join(kafka_settings.bootstrap_servers), **session},
            "topics": kafka_topics.names.model_dump(),
            "groups": {"poller": kafka_topics.group("poller"),
                       "publisher": kafka_topics.group("publisher")},
        },
        extra={"poller": {"sharing": "kafka", "per_host_delay_s": 0.0, "min_interval_s": 0.5,
                          "default_interval_s": 0.5, "interval_jitter": 0.0},
               "roles": ["poller"]},
    )
    bus = KafkaBus(kafka_settings)
    reader = bus.consumer([kafka_topics.articles], group=kafka_topics.group("reader"))
    seen: list[Article] = []

    def articles() -> list[Article]:
        seen.extend(decode(r.value, Article) for r in reader.poll(0.2))
        return seen

    process_a = MonitorProcess(config, "run", "--roles", "poller")
    stop = threading.Event()
    b: Poller | None = None
    thread: threading.Thread | None = None
    try:
        eventually(lambda: len(articles()) >= FEEDS, 90)
        # B joins the group only now and polls right away: a member that joined
        # and did not poll would hold up the group's rebalance when A joins.
        settings = shared_settings(tmp_path, "b", server, kafka_settings, kafka_topics)
        b = Poller(settings, bus)
        thread = threading.Thread(target=b.run, args=(stop,))
        thread.start()
        role = b
        eventually(lambda: 0 < len(role.feed_states) < FEEDS, 90)
        orphan = sorted(set(f"f{i}" for i in range(FEEDS)) - set(role.feed_states))[0]
        hits = len(server.hits(f"/{orphan}"))
        try:
            eventually(lambda: len(server.hits(f"/{orphan}")) >= hits + 2)
        except AssertionError as exc:
            tail = process_a.output()[-3000:]
            raise AssertionError(f"A stopped polling {orphan}:\n{tail}") from exc
        process_a.stop(signal.SIGKILL)
        eventually(lambda: len(role.feed_states) == FEEDS, 60)
        index = int(orphan[1:])
        server.routes[f"/{orphan}"] = Reply(200, rss([story(index, 2), story(index, 1)]))
        eventually(lambda: len(articles()) >= FEEDS + 1)
        hits = len(server.hits(f"/{orphan}"))
        eventually(lambda: len(server.hits(f"/{orphan}")) >= hits + 3)
        titles = sorted(article.title for article in articles())
        assert titles == sorted(
            [f"Feed {i} story 1" for i in range(FEEDS)] + [f"Feed {index} story 2"]
        ), process_a.output()[-3000:]
    finally:
        process_a.stop(signal.SIGKILL)
        stop.set()
        if thread is not None and thread.is_alive():
            thread.join(timeout=20)
        if b is not None:
            b.close()
        reader.close()
        bus.close()


@pytest.mark.kafka
def test_feeds_status_shows_every_pollers_feeds_from_the_feeds_topic(
    tmp_path: Path, kafka_settings: KafkaSettings, kafka_topics: KafkaTopics
) -> None:
    """This machine's store is empty; the states other pollers wrote to the
    topic are what ``feeds status`` shows, the newest per feed."""
    feeds = {fid: FeedConfig(id=fid, url=f"https://{fid}.example/feed")  # type: ignore[arg-type]
             for fid in ("a", "b", "c")}
    ok = dataclasses.replace(new_state("a", "https://a.example/feed", 0.0), last_success_at=5.0)
    failing = dataclasses.replace(new_state("b", "https://b.example/feed", 0.0), failures=9,
                                  last_error="HTTP 503 from https://b.example/feed")
    history = [(fid, encode_record(feed, None)) for fid, feed in feeds.items()] + [
        ("a", encode_record(feeds["a"], ok)), ("b", encode_record(feeds["b"], failing)),
        ("c", None),
    ]
    write(KafkaBus(kafka_settings), kafka_topics.feeds, history)
    config = write_config(
        tmp_path,
        feeds=[(fid, str(feed.url)) for fid, feed in feeds.items()],
        bus={"kind": "kafka",
             "kafka": {"bootstrap_servers": ",".join(kafka_settings.bootstrap_servers)},
             "topics": kafka_topics.names.model_dump()},
        extra={"poller": {"sharing": "kafka"}},
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "feeds", "status", "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["feed_id"], r["health"], r["failures"]) for r in rows] == [
        ("b", "broken", 9), ("a", "ok", 0)
    ]


class RecordingFetcher:
    """A real fetcher that notes every URL it was asked for, so a test can
    tell which poller polled a feed."""

    def __init__(self, inner: Fetcher) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._urls: list[str] = []

    def fetch(self, request: FetchRequest) -> FetchResult:
        with self._lock:
            self._urls.append(request.url)
        return self._inner.fetch(request)

    def close(self) -> None:
        self._inner.close()

    def count(self, url: str) -> int:
        with self._lock:
            return self._urls.count(url)


def write(bus: Bus, topic: str, history: Sequence[tuple[str, bytes | None]]) -> None:
    """Write ``(key, value)`` records (``None``: a tombstone) onto ``topic``, then close ``bus``."""
    producer = bus.producer()
    try:
        for key, value in history:
            if value is None:
                producer.tombstone(topic, key)
            else:
                producer.send(topic, key, value)
        producer.flush()
    finally:
        producer.close()
        bus.close()


class RunningPoller:
    """A :class:`PollerRole` on the shared list, run on its own thread as the daemon does."""

    def __init__(self, settings: Settings, bus: Bus) -> None:
        self.settings = settings
        self.fetcher = RecordingFetcher(HttpxFetcher(settings.poller))
        self.role = PollerRole(RoleContext(settings, bus, Metrics(), SystemClock()), self.fetcher)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.role.run, args=(self._stop,))
        self._thread.start()

    @property
    def owned(self) -> set[str]:
        return set(self.role.feed_states)

    def reload(self, feeds: Sequence[FeedConfig]) -> None:
        """What SIGHUP does: the role gets the re-read settings with the new list."""
        self.settings = self.settings.model_copy(update={"feeds": tuple(feeds)})
        self.role.reload(self.settings)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=20)
        self.role.close()


@contextlib.contextmanager
def two_pollers(
    server: FeedServer, tmp: Path, bus: MemoryBus
) -> Iterator[tuple[RunningPoller, RunningPoller]]:
    """Two pollers sharing the feed list on the in-process bus."""
    pollers: list[RunningPoller] = []
    try:
        for name in ("a", "b"):
            pollers.append(RunningPoller(shared_settings(tmp, name, server), bus))
        a, b = pollers

        def split() -> bool:
            return bool(a.owned) and bool(b.owned) and not a.owned & b.owned and (
                len(a.owned | b.owned) == FEEDS
            )

        wait_for(split, 60, "two pollers splitting the feeds")
        yield a, b
    finally:
        for poller in pollers:
            poller.stop()
        bus.close()


def test_a_feed_added_on_reload_is_polled_by_exactly_one_poller(
    server: FeedServer, tmp_path: Path
) -> None:
    """No restart: both pollers are told to reload (as on SIGHUP) with one more feed."""
    url = server.url("/new")
    server.routes["/new"] = Reply(200, rss([story(99, 1)]))
    bus = MemoryBus(partitions=3)
    with two_pollers(server, tmp_path, bus) as (a, b):
        added = FeedConfig(id="new", url=url)  # type: ignore[arg-type]
        for poller in (a, b):
            poller.reload((*poller.settings.feeds, added))
        wait_for(lambda: len(server.hits("/new")) >= 3, 30, "the added feed being polled")
        owners = [p for p in (a, b) if "new" in p.owned]
        assert len(owners) == 1, (a.owned, b.owned)
        owner, other = owners[0], ({a, b} - set(owners)).pop()
        # A few more poll intervals: the other poller never polls it, the owner keeps on.
        time.sleep(2.0)
        assert "new" not in other.owned and other.fetcher.count(url) == 0
        assert owner.fetcher.count(url) >= 5
        assert len(a.owned | b.owned) == FEEDS + 1 and not a.owned & b.owned
        records = read_feed_records(bus, FEEDS_TOPIC)
        feed, state = records["new"]
        assert feed == added and state is not None and state.last_poll_at is not None


class HeldRoute:
    """A feed route whose answer waits until the test releases it (at most 10 s),
    so a poll of the feed is in flight while the test changes the feed list."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self, request: Request) -> Reply:
        if not self.released.is_set():
            self.entered.set()
            self.released.wait(10)
        return Reply(200, self.body)


def test_a_feed_removed_on_reload_stays_removed_after_a_poll_in_flight(
    server: FeedServer, tmp_path: Path
) -> None:
    """The other poller is reloaded first (its machine got SIGHUP first) and
    writes the removal; the owner's poll of the feed, held by the server until
    then, ends right after, before the owner has read the removal. The state
    that poll saves must not bring the feed back; neither must the owner's own
    reload afterwards."""
    bus = MemoryBus(partitions=3)
    with two_pollers(server, tmp_path, bus) as (a, b):
        gone = sorted(a.owned)[0]
        owner, other = a, b
        url = server.url(f"/{gone}")
        # Polled a few times already, so its state is on the topic.
        wait_for(lambda: owner.fetcher.count(url) >= 2, 30, f"{gone} being polled")
        held = HeldRoute(rss([story(int(gone[1:]), 1)]))
        server.routes[f"/{gone}"] = held
        assert held.entered.wait(10), f"no poll of {gone} in flight"
        kept = [feed for feed in a.settings.feeds if feed.id != gone]
        other.reload(kept)
        held.released.set()

        def not_polled_any_more(phase: str) -> None:
            wait_for(lambda: gone not in a.owned | b.owned, 10, f"{gone} being dropped")
            hits = len(server.hits(f"/{gone}"))
            time.sleep(2.5)  # five poll intervals
            assert len(server.hits(f"/{gone}")) == hits, f"{gone} polled again {phase}"
            assert gone not in a.owned | b.owned and len(a.owned | b.owned) == FEEDS - 1
            records = read_feed_records(bus, FEEDS_TOPIC)
            assert gone not in records, f"the feeds topic lists {gone} {phase}: {records[gone]}"
            assert set(records) == {feed.id for feed in kept}

        not_polled_any_more("after the poll in flight ended")
        owner.reload(kept)
        not_polled_any_more("after the owner's reload")


def test_a_feed_moved_on_reload_does_not_go_back_after_a_poll_in_flight(
    server: FeedServer, tmp_path: Path
) -> None:
    """The same race for a feed whose address changes: the held poll of the
    old address must not bring the old definition back."""
    bus = MemoryBus(partitions=3)
    with two_pollers(server, tmp_path, bus) as (a, b):
        fid = sorted(a.owned)[0]
        owner, other = a, b
        old_url, new_url = server.url(f"/{fid}"), server.url("/moved")
        wait_for(lambda: owner.fetcher.count(old_url) >= 2, 30, f"{fid} being polled")
        body = rss([story(int(fid[1:]), 1)])
        held = HeldRoute(body)
        server.routes[f"/{fid}"] = held
        server.routes["/moved"] = Reply(200, body)
        assert held.entered.wait(10), f"no poll of {fid} in flight"
        moved = FeedConfig(id=fid, url=new_url)  # type: ignore[arg-type]
        feeds = [moved if feed.id == fid else feed for feed in a.settings.feeds]
        other.reload(feeds)
        held.released.set()
        wait_for(lambda: len(server.hits("/moved")) >= 2, 10, f"{fid} polled at its new address")
        hits = len(server.hits(f"/{fid}"))
        time.sleep(2.5)  # five poll intervals
        assert len(server.hits(f"/{fid}")) == hits, f"{fid}'s old address was polled again"
        assert len(server.hits("/moved")) >= 5
        assert owner.role.feed_states[fid].config_url == new_url and fid not in other.owned
        assert read_feed_records(bus, FEEDS_TOPIC)[fid][0] == moved


@pytest.mark.parametrize("change", ["removed", "moved"])
def test_a_save_that_raced_a_removal_or_move_is_ignored_and_overwritten(change: str) -> None:
    bus = MemoryBus(partitions=3)
    owned = raced_board(bus, FEEDS_TOPIC, "pollers", change)
    assert owned == raced_expected(change)
    assert read_feed_records(bus, FEEDS_TOPIC) == raced_expected(change)


@pytest.mark.kafka
def test_a_save_that_raced_a_move_is_ignored_and_overwritten_on_kafka(
    kafka_settings: KafkaSettings, kafka_topics: KafkaTopics
) -> None:
    bus = KafkaBus(kafka_settings)
    try:
        owned = raced_board(bus, kafka_topics.feeds, kafka_topics.group("poller"), "moved")
        assert owned == raced_expected("moved")
        assert read_feed_records(bus, kafka_topics.feeds) == raced_expected("moved")
    finally:
        bus.close()


OLD = FeedConfig(id="f", url="https://old.example/feed")  # type: ignore[arg-type]
NEW = FeedConfig(id="f", url="https://new.example/feed")  # type: ignore[arg-type]
OTHER = FeedConfig(id="g", url="https://g.example/feed")  # type: ignore[arg-type]


def raced_expected(change: str) -> Owned:
    expected: Owned = {"g": (OTHER, None)}
    if change == "moved":
        expected["f"] = (NEW, None)
    return expected


def raced_board(bus: Bus, topic: str, group: str, change: str) -> Owned:
    """The records such a race leaves on the topic, written directly: the
    stale save after the tombstone (or the new definition) does not give the
    feed (or its old address) back, and the record in force is written again.
    Returns what a board on the topic then owns."""
    old, new, other = OLD, NEW, OTHER
    polled = dataclasses.replace(new_state("f", str(old.url), 0.0), last_poll_at=1.0)
    history = [
        ("g", encode_record(other, None)),
        ("f", encode_record(old, None)),
        ("f", encode_record(old, polled)),
        ("f", None if change == "removed" else encode_record(new, None)),
        ("f", encode_record(old, dataclasses.replace(polled, last_poll_at=2.0))),
    ]
    bus.ensure_compacted_topic(topic)
    producer = bus.producer()
    for fid, value in history:
        if value is None:
            producer.tombstone(topic, fid)
        else:
            producer.send(topic, fid, value)
    producer.flush()
    producer.close()
    board = SharedFeedBoard(bus, topic, group)
    try:
        deadline = time.monotonic() + 30
        owned = None
        while owned is None:
            assert time.monotonic() < deadline, "the board never got its partitions"
            owned = board.refresh(1.0)
    finally:
        board.close()
    return owned


def test_no_feeds_module_imports_kafka_python() -> None:
    """The feed board reaches Kafka only through the Bus protocol."""
    feeds = Path(__file__).resolve().parents[2] / "monitor" / "feeds"
    for path in sorted(feeds.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom)}
        assert not {m for m in imported if m == "kafka" or m.startswith("kafka.")}, path
