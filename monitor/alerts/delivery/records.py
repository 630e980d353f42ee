"""Which receiver has which alert: delivery outcomes shared through a changelog.

One :class:`DeliveryRecords` per partition of the alerts topic, in memory,
kept by :class:`~monitor.bus.changelog.PartitionStates`: every outcome is also
journalled to the compacted ``alerts_deliveries`` topic in the partition
numbered like the alert's, and a process that is given the partition rebuilds
it from there. So after a delivery process dies, the one that takes its
partitions over knows what the dead one delivered (and dead-lettered) and does
not call those receivers again; only outcomes not yet flushed when it died are
repeated (receivers drop them by ``Idempotency-Key``). The local history
(:class:`~monitor.alerts.store.AlertStore`) stays the long record behind the
status page and ``monitor alerts list``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from monitor.alerts.delivery.progress import Outcome
from monitor.alerts.store import Settled
from monitor.bus.base import Record
from monitor.bus.changelog import restore_table
from monitor.bus.codec import encode
from monitor.messages import DeliveryEntry


def entry_key(alert_id: str, receiver: str) -> str:
    return f"{receiver} {alert_id}"


class DeliveryRecords:
    """Each receiver's last outcome per alert of one partition."""

    def __init__(self, journal: Callable[[str, bytes | None], None] | None = None) -> None:
        self._journal = journal
        self._entries: dict[str, DeliveryEntry] = {}

    def settled(self, alert_id: str, receiver: str) -> Settled | None:
        """The receiver's last recorded outcome for ``alert_id``, if any."""
        entry = self._entries.get(entry_key(alert_id, receiver))
        return Settled(entry.status, entry.revision, entry.at) if entry else None

    def record(self, outcome: Outcome) -> None:
        """Keep ``outcome`` and journal it."""
        entry = DeliveryEntry(outcome.alert_id, outcome.receiver, outcome.status,
                              outcome.revision, outcome.at)
        key = entry_key(entry.alert_id, entry.receiver)
        self._entries[key] = entry
        if self._journal is not None:
            self._journal(key, encode(entry))

    def prune(self, before: float) -> None:
        """Forget outcomes older than ``before`` (journalled as tombstones)."""
        for key in [k for k, e in self._entries.items() if e.at < before]:
            del self._entries[key]
            if self._journal is not None:
                self._journal(key, None)

    def restore(self, records: Iterable[Record]) -> int:
        """Apply changelog records in order; those of another version are skipped."""
        return restore_table(self._entries, records, DeliveryEntry)

    def __len__(self) -> int:
        return len(self._entries)
