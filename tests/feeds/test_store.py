"""The poller's store: one transaction per call, SQLite's errors translated."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from monitor.db import StoreError
from monitor.feeds.state import FeedState
from monitor.feeds.store import PollerStore, saved_health, state_from_json, store_path


def _state(feed_id: str) -> FeedState:
    return FeedState(feed_id=feed_id, config_url="https://example.com/feed",
                     url="https://example.com/feed")


def _nearly_full(store: PollerStore) -> None:
    """Cap the file at its present size plus a page or two: SQLite then answers
    SQLITE_FULL, as it does on a full disk."""
    with store._db.transaction() as conn:  # the test reaches in to cap the file
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")


def test_a_full_disk_raises_a_retryable_store_error_and_records_nothing(tmp_path: Path) -> None:
    store = PollerStore.in_state_dir(tmp_path)
    store.save_state(_state("f1"), "ok")
    _nearly_full(store)
    big = [(replace(_state(f"b{i}"), recent_ids=("x" * 20_000,)), "ok") for i in range(10)]
    with pytest.raises(StoreError, match="full") as caught:
        store.save_states(big)  # type: ignore[arg-type]
    assert caught.value.kind == "retryable"
    assert set(store.load_states()) == {"f1"}  # all or nothing
    store.save_state(_state("f2"), "ok")  # small writes still fit: the store goes on
    assert set(store.load_states()) == {"f1", "f2"}
    store.close()


def test_saved_health_reads_the_store_and_is_empty_without_one(tmp_path: Path) -> None:
    assert saved_health(store_path(tmp_path)) == []
    store = PollerStore.in_state_dir(tmp_path)
    store.save_states([(_state("f1"), "ok"), (_state("f2"), "broken")])
    rows = {state_from_json(data).feed_id: health
            for health, data in saved_health(store_path(tmp_path))}
    assert rows == {"f1": "ok", "f2": "broken"}
    store.close()
    store_path(tmp_path).write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path(tmp_path)}{suffix}").unlink(missing_ok=True)
    assert saved_health(store_path(tmp_path)) == []
