"""PendingHistory answers the engine and never calls back into it."""

from __future__ import annotations

import random
from pathlib import Path

from monitor.alerts.delivery.history import PendingHistory
from monitor.alerts.store import AlertStore
from monitor.bus.base import Record
from monitor.clock import FrozenClock
from monitor.db import StoreError
from monitor.ops.metrics import Metrics


def _records(n: int) -> list[Record]:
    return [Record("alerts", 0, offset, None, b"{}") for offset in range(n)]


def test_records_come_out_in_order_and_a_refusal_holds_them_until_the_backoff_ends(
    tmp_path: Path,
) -> None:
    clock = FrozenClock()
    metrics = Metrics()
    history = PendingHistory(AlertStore(tmp_path / "a.sqlite3"), metrics, clock, random.Random(1))
    history.queue_records(_records(3))
    first = history.next_record()
    assert first is not None and first.offset == 0
    history.admitted()
    refused = history.next_record()
    assert refused is not None and refused.offset == 1
    history.refused(StoreError("disk full"))
    assert history.next_record() is None  # backing off: nothing is tried
    assert history.records_waiting == 2
    retry_at = history.retry_at
    assert retry_at is not None and retry_at > clock.now()
    clock.advance(retry_at - clock.now())
    again = history.next_record()
    assert again is not None and again.offset == 1  # the refused record first
    history.admitted()
    last = history.next_record()
    assert last is not None and last.offset == 2
    history.admitted()
    assert history.next_record() is None and history.records_waiting == 0
    assert history.retry_at is None
    errors = metrics.errors.labels("delivery", "retryable", "store")._value.get()
    assert errors == 1
