"""The receivers' side of alert delivery: when each may be called, and the calls running.

Each call runs on a pool thread, so a slow receiver does not hold up the
others. Whether a receiver may be called is up to its circuit breaker (pure,
:mod:`monitor.alerts.breaker`) and its last ``Retry-After``: that is a
statement about the receiver, not about the alert it answered, so no alert
is sent to that receiver before it has passed.

What an answer means for the alert (retry, dead-letter, record) is the
:class:`~monitor.alerts.delivery.DeliveryEngine`'s business; it calls
:class:`Receivers` from its own thread only.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from monitor.alerts.deliverable import Deliverable
from monitor.alerts.delivery import breaker as cb
from monitor.alerts.delivery.progress import InFlight, Progress
from monitor.alerts.notifiers import Notifier
from monitor.alerts.settings import BreakerSettings
from monitor.errors import MonitorError, PermanentError

# The delivery engine's logger: its log lines keep one name, whichever module writes them.
log = logging.getLogger("monitor.alerts.delivery")


@dataclass(slots=True)
class Attempt:
    """One call of a receiver for one alert: the running call and what it is for."""

    future: concurrent.futures.Future[tuple[MonitorError | None, float]]
    item: InFlight
    alert: Deliverable
    progress: Progress


def _send(notifier: Notifier, alert: Deliverable) -> tuple[MonitorError | None, float]:
    """Run one attempt (on a pool thread); return its error, if any, and its duration."""
    started = time.monotonic()
    try:
        notifier.send(alert)
    except MonitorError as exc:
        return exc, time.monotonic() - started
    except Exception as exc:  # a bug must not kill the role: dead-letter, keep going
        log.exception("notifier %s failed unexpectedly", notifier.name)
        return PermanentError(f"internal: {type(exc).__name__}: {exc}"), 0.0
    return None, time.monotonic() - started


def call_limit(breaker: cb.Breaker, answered: bool, concurrency: int) -> int:
    """How many calls a receiver may have running: ``concurrency`` once it has
    ``answered`` a call and while its circuit is closed, else one. So it earns
    parallel calls by answering, and loses them at its first failure: a receiver
    that is down or asks for a pause gets one call, not a burst."""
    return concurrency if answered and breaker.state == "closed" else 1


class Receivers:
    """The notifiers by receiver name, each with its circuit breaker, its
    ``Retry-After`` pause and its running calls (up to ``concurrency``, see
    :func:`call_limit`)."""

    def __init__(
        self, notifiers: Mapping[str, Notifier], breaker: BreakerSettings, concurrency: int = 1
    ) -> None:
        self._notifiers = dict(notifiers)
        self._breaker_settings = breaker
        self._concurrency = concurrency
        self._breakers: dict[str, cb.Breaker] = {name: cb.Breaker() for name in notifiers}
        #: Per receiver, the time before which it is not called: set from the
        #: Retry-After of its last "unavailable" answer (absent: no such answer).
        self._not_before: dict[str, float] = {}
        self._busy: dict[str, list[Attempt]] = {name: [] for name in notifiers}
        #: Receivers whose last finished call was answered (not unavailable).
        self._answering: set[str] = set()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, len(self._notifiers) * concurrency), thread_name_prefix="delivery"
        )

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a configured receiver."""
        return name in self._notifiers

    @property
    def running(self) -> bool:
        """Whether any call is running (or finished and not yet taken by :meth:`finished`)."""
        return any(self._busy.values())

    def busy(self, name: str) -> bool:
        """Whether the receiver has as many calls running (or not yet taken) as it may."""
        limit = call_limit(self._breakers[name], name in self._answering, self._concurrency)
        return len(self._busy[name]) >= limit

    def all_busy(self) -> bool:
        """Whether every receiver has as many calls running as it may."""
        return all(self.busy(name) for name in self._notifiers)

    def calling(self, name: str, alert_id: str) -> bool:
        """Whether a call of the receiver for ``alert_id`` (any revision) is running."""
        return any(attempt.alert.id == alert_id for attempt in self._busy[name])

    def allows(self, name: str, now: float) -> bool:
        """Whether the receiver may be called at ``now``: its circuit allows it and
        any Retry-After it answered has passed."""
        return cb.allows(self._breakers[name], now) and now >= self._not_before.get(name, now)

    def free_at(self, name: str, now: float) -> float:
        """The earliest time the receiver may be called (``now`` if it may be now),
        by its circuit and any Retry-After it answered."""
        return max(cb.next_allowed(self._breakers[name], now), self._not_before.get(name, now))

    def start(
        self, name: str, now: float, item: InFlight, alert: Deliverable, progress: Progress
    ) -> None:
        """Call the receiver with ``alert`` on the pool; it is busy until the call is taken."""
        self._breakers[name] = cb.before_call(self._breakers[name], now)
        future = self._pool.submit(_send, self._notifiers[name], alert)
        self._busy[name].append(Attempt(future, item, alert, progress))

    def finished(self, block_s: float) -> Iterator[tuple[str, Attempt]]:
        """The finished calls, waiting up to ``block_s`` for one.

        Each is taken (its receiver no longer busy) only as it is yielded: one
        the caller did not get to is yielded again by the next call.
        """
        futures = [attempt.future for attempts in self._busy.values() for attempt in attempts]
        if not futures:
            return
        concurrent.futures.wait(futures, timeout=block_s, return_when="FIRST_COMPLETED")
        for name, attempts in self._busy.items():
            for attempt in [a for a in attempts if a.future.done()]:
                attempts.remove(attempt)
                yield name, attempt

    def answered(self, name: str) -> None:
        """The receiver answered (delivered or rejected): its circuit closes."""
        self._breakers[name] = cb.on_success(self._breakers[name])
        self._answering.add(name)

    def unavailable(self, name: str, now: float, retry_after: float | None) -> None:
        """The receiver was unavailable: count it against its circuit, and when it
        asked for a pause, hold every alert for it until the pause has passed."""
        self._breakers[name] = cb.on_failure(self._breakers[name], now, self._breaker_settings)
        self._answering.discard(name)
        if retry_after is not None:
            self._not_before[name] = now + retry_after

    def close(self) -> None:
        """Wait for running calls to end, then close every notifier."""
        self._pool.shutdown(wait=True)
        for notifier in self._notifiers.values():
            notifier.close()
