"""The publisher stage's memory: the articles published and their recorded sources.

One :class:`SeenState` per partition of the ``articles_found`` topic, in
memory, rebuilt from the compacted changelog ``articles_seen`` when the
partition is assigned (:class:`monitor.bus.changelog.PartitionStates`). An
article's copies are keyed by its id, so every copy of one article reaches the
same partition, and the one process deciding for it.

Unlike the alert sink's state, a change is not journalled as it is made: it is
handed back as a :data:`Change`, which the stage writes only once the
publication it records is flushed (see :class:`monitor.feeds.publisher.PublishRole`).
A changelog entry ahead of its publication would make an article that never
reached the articles topic look published after a restore: lost. Behind it,
the article is at worst published twice, which downstream ids absorb.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from monitor.bus.base import Record
from monitor.bus.changelog import restore_table
from monitor.bus.codec import encode
from monitor.messages import SeenEntry, Source

#: Hears each change: the changelog key (article id) and the encoded entry, None for a removal.
Journal = Callable[[str, bytes | None], None]
#: One change to journal: (article id, encoded :class:`SeenEntry`, or None for a removal).
Change = tuple[str, bytes | None]


class SeenState:
    """The published articles of one partition, by id. Not thread-safe: the
    publisher stage's thread owns it."""

    def __init__(self, journal: Journal | None = None) -> None:
        self._journal = journal
        self._entries: dict[str, SeenEntry] = {}

    def recorded(self, article_ids: Iterable[str]) -> dict[str, tuple[Source, ...]]:
        """The recorded sources of those of ``article_ids`` already published."""
        found = (self._entries.get(article_id) for article_id in article_ids)
        return {entry.article_id: entry.sources for entry in found if entry is not None}

    def first_seen(self, article_id: str) -> float | None:
        """When ``article_id`` was first published, if it is known."""
        entry = self._entries.get(article_id)
        return entry.first_seen if entry is not None else None

    def record(
        self, article_id: str, url: str, sources: tuple[Source, ...], now: float
    ) -> Change:
        """Keep that ``article_id`` is published with ``sources`` (all of them, in the
        order published); a known article keeps its first publication time and URL.
        Returns the change to journal once the publication is flushed."""
        known = self._entries.get(article_id)
        entry = (
            SeenEntry(article_id, now, url, sources)
            if known is None
            else SeenEntry(article_id, known.first_seen, known.url, sources)
        )
        self._entries[article_id] = entry
        return article_id, encode(entry)

    def prune(self, before: float) -> list[Change]:
        """Forget the articles first published before ``before``; returns the
        removals to journal (their tombstones)."""
        old = [key for key, entry in self._entries.items() if entry.first_seen < before]
        for key in old:
            del self._entries[key]
        return [(key, None) for key in old]

    def write(self, changes: Sequence[Change]) -> None:
        """Journal ``changes`` (no-op without a journal)."""
        if self._journal is None:
            return
        for key, value in changes:
            self._journal(key, value)

    def restore(self, records: Iterable[Record]) -> int:
        """Apply changelog records in order (the last record of a key wins, a
        tombstone removes it); returns how many were applied. A record that does not
        decode (another version) is skipped: at worst its article is published again."""
        return restore_table(self._entries, records, SeenEntry)

    def entries(self) -> Mapping[str, SeenEntry]:
        """Every entry held, by article id (read-only view, for tests and status)."""
        return dict(self._entries)

    def __len__(self) -> int:
        """How many published articles the state holds."""
        return len(self._entries)
