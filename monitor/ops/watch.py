"""Delivery health per receiver and the periodic summary log line, from the metrics.

Everything here reads the process's own counters (``monitor_deliveries_total``
and the poll, article and alert counters), never the alerts package's
internals, so it knows what any delivery role in this process did:

* :func:`receiver_state` — the pure verdict for one receiver: ``ok``,
  ``retrying`` (its latest attempts failed), ``breaker open`` (at least
  ``alerts.breaker.failure_threshold`` failed attempts in a row: the circuit
  breaker, which counts the same way, has stopped calling it) or
  ``dead letters waiting`` (alerts given up since start; ``monitor alerts
  replay`` re-sends them);
* :class:`DeliveryWatch` — follows the counters between observations to know
  how many attempts in a row failed;
* :func:`summary_line` — one INFO line per interval: polls, articles, alerts
  and deliveries in the last minute; and :class:`OpsWatch`, the thread that
  observes every few seconds, logs the summary every minute and a WARNING for
  each receiver whose attempts failed in that minute.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

#: ``monitor_deliveries_total`` outcomes that are failed attempts.
FAILED_OUTCOMES = frozenset({"rejected", "timeout", "connect", "throttled", "http_4xx", "http_5xx"})
RECEIVER_STATES = ("breaker open", "retrying", "dead letters waiting", "ok")


@dataclass(frozen=True, slots=True)
class ReceiverHealth:
    """One receiver's delivery health as the status page and ``/readyz`` show it."""

    name: str
    state: str
    delivered: int = 0
    failed: int = 0
    #: Failed attempts since the last delivery (as far as observations tell).
    failing_in_a_row: int = 0
    deadlettered: int = 0


def receiver_state(failing_in_a_row: int, breaker_threshold: int, deadlettered: int) -> str:
    """The verdict for one receiver (see the module docstring)."""
    if failing_in_a_row >= breaker_threshold:
        return "breaker open"
    if failing_in_a_row > 0:
        return "retrying"
    if deadlettered > 0:
        return "dead letters waiting"
    return "ok"


def delivery_counts(registry: CollectorRegistry) -> dict[str, dict[str, float]]:
    """``monitor_deliveries_total`` as receiver → outcome → count."""
    counts: dict[str, dict[str, float]] = {}
    for family in registry.collect():
        if family.name != "monitor_deliveries":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                per = counts.setdefault(sample.labels.get("receiver", ""), {})
                outcome = sample.labels.get("outcome", "")
                per[outcome] = per.get(outcome, 0.0) + sample.value
    return counts


def _failed(outcomes: Mapping[str, float]) -> float:
    return sum(n for outcome, n in outcomes.items() if outcome in FAILED_OUTCOMES)


class DeliveryWatch:
    """Follows each receiver's counters from one observation to the next."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._last: dict[str, dict[str, float]] = {}
        self._streak: dict[str, int] = {}

    def observe(self) -> None:
        """Read the counters: a receiver with a delivery since the last look has
        no failure streak; one with only failures adds them to its streak."""
        now = delivery_counts(self._registry)
        with self._lock:
            for name, outcomes in now.items():
                before = self._last.get(name, {})
                delivered = outcomes.get("delivered", 0.0) - before.get("delivered", 0.0)
                failed = _failed(outcomes) - _failed(before)
                streak = 0 if delivered > 0 else self._streak.get(name, 0) + int(failed)
                self._streak[name] = streak
            self._last = now

    def health(self, receivers: Iterable[str], breaker_threshold: int) -> list[ReceiverHealth]:
        """Every configured receiver's health, worst first, then by name."""
        with self._lock:
            rows = []
            for name in receivers:
                outcomes = self._last.get(name, {})
                streak = self._streak.get(name, 0)
                dead = int(outcomes.get("deadlettered", 0.0))
                rows.append(ReceiverHealth(
                    name, receiver_state(streak, breaker_threshold, dead),
                    int(outcomes.get("delivered", 0.0)), int(_failed(outcomes)), streak, dead,
                ))  # fmt: skip
        rank = {state: i for i, state in enumerate(RECEIVER_STATES)}
        return sorted(rows, key=lambda r: (rank[r.state], r.name))


# -- the summary line ---------------------------------------------------------
def activity_totals(registry: CollectorRegistry) -> dict[str, float]:
    """Cumulative polls, articles, alerts, deliveries and failed deliveries."""
    names = {"monitor_polls": "polls", "monitor_articles": "articles", "monitor_alerts": "alerts"}
    totals = dict.fromkeys(("polls", "articles", "alerts", "delivered", "failed"), 0.0)
    for family in registry.collect():
        if family.name in names:
            totals[names[family.name]] += sum(
                s.value for s in family.samples if s.name.endswith("_total")
            )
    for outcomes in delivery_counts(registry).values():
        totals["delivered"] += outcomes.get("delivered", 0.0)
        totals["failed"] += _failed(outcomes)
    return totals


def summary_line(before: Mapping[str, float], after: Mapping[str, float]) -> str:
    """``last minute: 12 polls, 30 articles, 2 alerts, 2 deliveries (0 failed)``."""
    d = {key: int(after.get(key, 0.0) - before.get(key, 0.0)) for key in after}
    return (
        f"last minute: {d['polls']} polls, {d['articles']} articles, {d['alerts']} alerts, "
        f"{d['delivered']} deliveries ({d['failed']} failed attempts)"
    )


class OpsWatch:
    """Observes deliveries every ``observe_s`` and logs the summary every ``summary_s``.

    ``settings`` gives the receivers and breaker threshold in force (they
    follow SIGHUP reloads).
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        receivers: Callable[[], tuple[Sequence[str], int]],
        observe_s: float = 5.0,
        summary_s: float = 60.0,
    ) -> None:
        self.deliveries = DeliveryWatch(registry)
        self._registry = registry
        self._receivers = receivers
        self._observe_s = observe_s
        self._summary_s = summary_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ops-watch", daemon=True)
        self._baseline: tuple[dict[str, float], dict[str, float]] = ({}, {})

    def health(self) -> list[ReceiverHealth]:
        """Every configured receiver's health, observed now."""
        self.deliveries.observe()
        names, threshold = self._receivers()
        return self.deliveries.health(names, threshold)

    def start(self) -> None:
        """Take the baseline now, then observe and report in the background."""
        self._baseline = (activity_totals(self._registry), self._failed_by_receiver())
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def _loop(self) -> None:
        totals, failed = self._baseline
        waited = 0.0
        while not self._stop.wait(self._observe_s):
            self.deliveries.observe()
            waited += self._observe_s
            if waited < self._summary_s:
                continue
            waited = 0.0
            now = activity_totals(self._registry)
            log.info(summary_line(totals, now))
            totals = now
            failed = self._warn_failures(failed)

    def _failed_by_receiver(self) -> dict[str, float]:
        return {name: _failed(o) for name, o in delivery_counts(self._registry).items()}

    def _warn_failures(self, before: Mapping[str, float]) -> dict[str, float]:
        now = self._failed_by_receiver()
        health = {h.name: h for h in self.health()}
        for name, count in sorted(now.items()):
            new = int(count - before.get(name, 0.0))
            if new > 0:
                state = health[name].state if name in health else "unknown"
                log.warning("deliveries to %s: %d failed attempts in the last minute (%s)",
                            name, new, state)  # fmt: skip
        return now
