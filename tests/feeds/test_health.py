"""Health rows of a shared feed list, from the newest record per feed on the feeds topic."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.feeds.commands import health_table
from monitor.feeds.health import read_health, shared_health
from monitor.feeds.settings import FeedConfig
from monitor.feeds.sharing import encode_record, newest_per_key
from monitor.feeds.state import new_state
from monitor.feeds.store import PollerStore, store_path


def feed(fid: str, url: str) -> FeedConfig:
    return FeedConfig(id=fid, url=url)  # type: ignore[arg-type]


def test_newest_record_per_feed_becomes_one_row_each() -> None:
    a, b, c = feed("a", "https://a.example/f"), feed("b", "https://b.example/f"), feed(
        "c", "https://c.example/f")
    moved = feed("d", "https://d.example/new")
    polled = dataclasses.replace(new_state("a", "https://a.example/f", 0.0), last_success_at=60.0,
                                 last_poll_at=60.0, next_poll_at=960.0)
    failing = dataclasses.replace(new_state("b", "https://b.example/f", 0.0), failures=7,
                                  last_error="HTTP 503 from https://b.example/f",
                                  last_error_at=90.0)
    old_address = dataclasses.replace(new_state("d", "https://d.example/old", 0.0),
                                      last_success_at=30.0)
    records = [
        ("a", encode_record(a, None)),
        ("b", encode_record(b, None)),
        ("c", encode_record(c, None)),
        ("a", encode_record(a, polled)),
        ("b", encode_record(b, failing)),
        ("c", None),  # removed from the list
        ("d", encode_record(moved, old_address)),  # a late state of the old address
        ("e", b"{broken"),
    ]
    rows = shared_health(newest_per_key(records), broken_after=5)
    assert [(r.feed_id, r.health, r.failures) for r in rows] == [
        ("b", "broken", 7), ("d", "pending", 0), ("a", "ok", 0)
    ]
    ok = rows[2]
    assert (ok.last_success, ok.next_poll) == ("1970-01-01T00:01:00Z", "1970-01-01T00:16:00Z")
    assert rows[1].next_poll is None and rows[1].url == "https://d.example/new"

    header, *lines = health_table(rows)
    assert header.split()[:3] == ["FEED", "HEALTH", "FAILS"]
    assert lines[0].split()[:3] == ["b", "broken", "7"] and "HTTP 503" in lines[0]
    assert lines[1].split()[:5] == ["d", "pending", "0", "-", "-"]


def test_a_later_definition_without_state_makes_the_feed_pending_again() -> None:
    a = feed("a", "https://a.example/f")
    polled = dataclasses.replace(new_state("a", "https://a.example/f", 0.0), last_success_at=1.0)
    records = [("a", encode_record(a, polled)), ("a", encode_record(a, None))]
    (row,) = shared_health(newest_per_key(records), broken_after=5)
    assert row.health == "pending"


def test_local_health_reads_the_store_worst_first_and_nothing_from_an_unusable_one(
    tmp_path: Path,
) -> None:
    assert read_health(tmp_path) == []
    store = PollerStore.in_state_dir(tmp_path)
    ok = new_state("a", "https://a.example/f", 0.0)
    store.save_states([(ok, "ok"), (dataclasses.replace(ok, feed_id="b"), "broken")])
    store.close()
    assert [(h.feed_id, h.health) for h in read_health(tmp_path)] == [("b", "broken"), ("a", "ok")]
    store_path(tmp_path).write_bytes(b"not a database" * 500)
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path(tmp_path)}{suffix}").unlink(missing_ok=True)
    assert read_health(tmp_path) == []
