"""What ``/readyz`` means, as a pure function of the daemon's state.

The monitor is *ready* when all of these hold:

1. it is not stopping (after SIGTERM an orchestrator should stop routing to it);
2. the bus answers: on Kafka a broker accepts a connection (probed at most
   every few seconds), which a poller-only process needs to know as much as
   one with consumer roles;
3. every role it supervises is running: a role that crashed and is waiting
   for its restart is not;
4. it is caught up: for every consumer group, the consumer lag last reported
   (``monitor_consumer_lag``, summed over the group's topic-partitions) is at
   most ``ops.ready_max_lag`` records. A group that has not reported yet
   counts as caught up;
5. no stage is stalled: the stage watchdog (:mod:`monitor.bus.worker`) has
   not found a consumer with records waiting that reads none
   (``monitor_stage_stalled``); it clears once the re-created consumer reads.

``/healthz`` is simpler: the process answers HTTP, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry


@dataclass(frozen=True, slots=True)
class Readiness:
    """The verdict and, when not ready, every reason why."""

    ready: bool
    reasons: tuple[str, ...] = ()


def lag_by_group(registry: CollectorRegistry) -> dict[str, float]:
    """Sum ``monitor_consumer_lag`` per ``group`` label."""
    totals: dict[str, float] = {}
    for family in registry.collect():
        if family.name != "monitor_consumer_lag":
            continue
        for sample in family.samples:
            group = sample.labels.get("group", "")
            totals[group] = totals.get(group, 0.0) + sample.value
    return totals


def articles_by_language(registry: CollectorRegistry) -> dict[str, float]:
    """``monitor_nlp_articles_total`` per ``language`` label (``other``: not tagged)."""
    counts: dict[str, float] = {}
    for family in registry.collect():
        if family.name != "monitor_nlp_articles":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                language = sample.labels.get("language", "")
                counts[language] = counts.get(language, 0.0) + sample.value
    return counts


def stalled_stages(registry: CollectorRegistry) -> list[str]:
    """Stages whose ``monitor_stage_stalled`` gauge is set, sorted."""
    return sorted(
        sample.labels.get("stage", "")
        for family in registry.collect()
        if family.name == "monitor_stage_stalled"
        for sample in family.samples
        if sample.value > 0
    )


def assess_readiness(
    *,
    stopping: bool,
    bus_reachable: bool,
    roles_running: Iterable[tuple[str, bool]],
    lag: Mapping[str, float],
    max_lag: int,
    stalled: Iterable[str] = (),
) -> Readiness:
    """Apply the rules in the module docstring."""
    reasons: list[str] = []
    if stopping:
        reasons.append("stopping")
    if not bus_reachable:
        reasons.append("the bus does not answer")
    reasons.extend(f"role {name} is not running" for name, up in roles_running if not up)
    reasons.extend(
        f"consumer group {group} is {behind:.0f} records behind (max {max_lag})"
        for group, behind in sorted(lag.items())
        if behind > max_lag
    )
    reasons.extend(
        f"stage {stage} is stalled: records are waiting and its consumer reads none"
        for stage in stalled
    )
    return Readiness(ready=not reasons, reasons=tuple(reasons))
