"""The publisher stage's seen state: records, prunes, journals, and restores."""

from __future__ import annotations

from monitor.bus.base import Record
from monitor.bus.codec import decode, encode
from monitor.feeds.seen import SeenState
from monitor.messages import SeenEntry, Source

A = Source("a", "https://a.example/feed")
B = Source("b", "https://b.example/feed")


def record(offset: int, key: str, value: bytes | None) -> Record:
    return Record("monitor.articles.seen", 0, offset, key, value or b"", tombstone=value is None)


def test_record_keeps_the_first_publication_and_hands_back_the_change() -> None:
    journal: list[tuple[str, bytes | None]] = []
    state = SeenState(lambda key, value: journal.append((key, value)))
    first = state.record("x", "https://x.example/1", (A,), now=10.0)
    again = state.record("x", "https://x.example/other", (A, B), now=20.0)
    assert journal == []  # nothing is journalled before the stage says so
    assert state.recorded(["x", "unknown"]) == {"x": (A, B)}
    assert state.first_seen("x") == 10.0
    assert decode(again[1] or b"", SeenEntry) == SeenEntry("x", 10.0, "https://x.example/1", (A, B))
    state.write([first, again])
    assert [key for key, _ in journal] == ["x", "x"]


def test_prune_forgets_old_articles_and_returns_their_tombstones() -> None:
    state = SeenState()
    state.record("old", "https://x.example/old", (A,), now=10.0)
    state.record("new", "https://x.example/new", (A,), now=100.0)
    assert state.prune(before=50.0) == [("old", None)]
    assert set(state.recorded(["old", "new"])) == {"new"}
    assert len(state) == 1


def test_restore_applies_the_last_record_of_a_key_and_tombstones() -> None:
    entry = SeenEntry("x", 1.0, "https://x.example/1", (A,))
    later = SeenEntry("x", 1.0, "https://x.example/1", (A, B))
    gone = SeenEntry("y", 2.0, "https://x.example/2", (B,))
    state = SeenState()
    applied = state.restore([
        record(0, "x", encode(entry)), record(1, "y", encode(gone)), record(2, "x", encode(later)),
        record(3, "y", None), record(4, "z", b"not an entry"),
    ])
    assert applied == 4  # the undecodable record is skipped
    assert state.entries() == {"x": later}
