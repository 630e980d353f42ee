"""What delivery owes the alert history while the history store is down.

The history store is local SQLite and can fail for a while (disk full, a
lock held too long). That is never a reason to crash or to drop an alert:
records that could not be admitted wait, in order, and are admitted again
after a backoff; outcomes that could not be recorded are kept and written
later. Only the history lags while the store is down.

:class:`PendingHistory` holds that work for the
:class:`~monitor.alerts.delivery.engine.DeliveryEngine`, which calls it from
its own thread only; it never calls back into the engine: the engine asks it
for the next record to admit and tells it how admission went.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Iterable

from monitor.alerts.delivery.progress import Outcome
from monitor.alerts.store import AlertStore, Settled
from monitor.bus.base import Record
from monitor.clock import Clock
from monitor.db import StoreError
from monitor.errors import RetryableError
from monitor.ops.metrics import Metrics
from monitor.retry import BackoffPolicy, backoff_delay

# The delivery engine's logger: its log lines keep one name, whichever module writes them.
log = logging.getLogger("monitor.alerts.delivery")

#: Pause between tries of a history store that refused a read or write.
STORE_BACKOFF = BackoffPolicy(base_s=0.5, cap_s=10.0)


class PendingHistory:
    """Polled records not yet admitted and outcomes not yet recorded, in order.

    Nothing is tried while the store is backing off (see :meth:`usable`); a
    refusal stops the work at the refused item, which is tried first next time.
    """

    def __init__(
        self, store: AlertStore, metrics: Metrics, clock: Clock, rng: random.Random
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._rng = rng
        #: Records polled but not yet admitted because the store refused them.
        self._unadmitted: deque[Record] = deque()
        #: Outcomes the store refused to record; written again on later steps.
        self._unrecorded: list[Outcome] = []
        self._failures = 0
        self._retry_at = 0.0

    @property
    def records_waiting(self) -> int:
        """How many polled records wait to be admitted."""
        return len(self._unadmitted)

    @property
    def retry_at(self) -> float | None:
        """When the store is tried again, while records or outcomes wait for it;
        None when nothing does."""
        return self._retry_at if self._unadmitted or self._unrecorded else None

    def usable(self) -> bool:
        """Whether the store may be tried now (it is not backing off)."""
        return self._clock.now() >= self._retry_at

    def refused(self, exc: RetryableError) -> None:
        """Back off before the store is tried again; the work waits meanwhile."""
        self._failures += 1
        delay = backoff_delay(STORE_BACKOFF, self._failures, self._rng)
        self._retry_at = self._clock.now() + delay
        self._metrics.errors.labels("delivery", exc.kind, exc.reason).inc()
        log.warning(
            "alert history unavailable, retrying in %.1fs (%d waiting): %s",
            delay,
            len(self._unadmitted) + len(self._unrecorded),
            exc,
        )

    def _worked(self) -> None:
        if self._failures:
            log.info("alert history available again")
        self._failures = 0

    def queue_records(self, records: Iterable[Record]) -> None:
        """Hold polled records for admission, after any already waiting."""
        self._unadmitted.extend(records)

    def next_record(self) -> Record | None:
        """The record to admit next, in order; None when none waits or the store
        is backing off. The engine answers with :meth:`admitted` or :meth:`refused`."""
        if not self._unadmitted or not self.usable():
            return None
        return self._unadmitted[0]

    def admitted(self) -> None:
        """The record :meth:`next_record` gave is in hand: the next one waits."""
        self._unadmitted.popleft()
        if not self._unadmitted:
            self._worked()

    def record(self, outcome: Outcome) -> None:
        """Write ``outcome`` to the history after those still waiting, or keep it."""
        self._unrecorded.append(outcome)
        self.write_outcomes()

    def write_outcomes(self) -> None:
        """Write outcomes to the history, oldest first; keep what the store refuses."""
        if not self._unrecorded or not self.usable():
            return
        while self._unrecorded:
            o = self._unrecorded[0]
            try:
                self._store.mark(o.alert_id, o.receiver, o.status, o.attempts, o.detail, o.at,
                                 o.revision)
            except StoreError as exc:
                self.refused(exc)
                return
            self._unrecorded.pop(0)
        self._worked()

    def settled(self, alert_id: str, receiver: str) -> Settled | None:
        """The receiver's last outcome for the alert (status, revision, when), from
        this run's unwritten outcomes or the history; raises StoreError when the
        history cannot be read."""
        for o in reversed(self._unrecorded):
            if o.alert_id == alert_id and o.receiver == receiver:
                return Settled(o.status, o.revision, o.at)
        return self._store.settled(alert_id, receiver)
