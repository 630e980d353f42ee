"""Every Prometheus metric the monitor exports, defined in one place.

Metrics are created against a registry that is passed in (never the global
default), so tests and several monitors in one process do not collide.
Label values are bounded: outcomes, kinds and reasons are fixed strings from
code; rule and receiver names come from config; feed ids are never labels.

Beside the monitor's own metrics the registry carries prometheus_client's
process (CPU, memory, file descriptors), platform (``python_info``) and
garbage-collector collectors, and ``monitor_build_info``: 1, labelled with
the versions this process runs and the form of its NLP modules.
"""

from __future__ import annotations

import importlib.util
import platform
from functools import cache
from importlib import metadata

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

import monitor

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The monitor's metrics, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        # -- the process and the build
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.build_info = Gauge(
            "monitor_build_info", "Always 1; the labels say what this process runs.",
            list(build_labels()), registry=r,
        )
        self.build_info.labels(**build_labels()).set(1)
        # -- feeds
        self.polls = Counter(
            "monitor_polls", "Feed polls by outcome.", ["outcome"], registry=r
        )
        self.fetch_seconds = Histogram(
            "monitor_fetch_seconds", "HTTP fetch latency.", ["kind"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.items = Counter(
            "monitor_feed_items", "Feed items seen, new or duplicate.", ["result"], registry=r
        )
        self.feeds = Gauge("monitor_feeds", "Feeds by health.", ["health"], registry=r)
        self.schedule_lag_seconds = Histogram(
            "monitor_schedule_lag_seconds", "How late polls start after they are due.",
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        # -- articles and NLP
        self.articles = Counter(
            "monitor_articles", "Articles published onto the bus.", registry=r
        )
        self.statements = Counter(
            "monitor_statements", "Statements produced by NLP, by tag.", ["tag"], registry=r
        )
        self.nlp_articles = Counter(
            "monitor_nlp_articles",
            "Articles the NLP stage read, by language: a tagged language's code, or"
            " 'other' for any language not tagged (those are split, never tagged).",
            ["language"], registry=r,
        )
        self.nlp_seconds = Histogram(
            "monitor_nlp_seconds", "NLP time per article.", buckets=_LATENCY_BUCKETS, registry=r
        )
        # -- alerts and delivery
        self.alerts = Counter(
            "monitor_alerts", "Alerts raised, by rule and severity.",
            ["rule", "severity"], registry=r,
        )
        self.alerts_suppressed = Counter(
            "monitor_alerts_suppressed", "Alerts not raised, by reason.", ["reason"], registry=r
        )
        self.alert_stories = Counter(
            "monitor_alert_stories",
            "Articles the sink grouped into a story notification, by outcome: new (a new"
            " story), revision (new material revised it), unchanged (nothing new).",
            ["outcome"], registry=r,
        )
        self.state_restores = Counter(
            "monitor_state_restores",
            "Partitions of changelogged state rebuilt from their changelog on assignment,"
            " by stage.", ["stage"], registry=r,
        )
        self.state_restore_seconds = Histogram(
            "monitor_state_restore_seconds",
            "Time to rebuild one partition's state from its changelog, by stage.",
            ["stage"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.state_entries = Gauge(
            "monitor_state_entries",
            "Entries of changelogged state held, by stage and partition.",
            ["stage", "partition"], registry=r,
        )
        self.deliveries = Counter(
            "monitor_deliveries", "Webhook delivery attempts, by receiver and outcome.",
            ["receiver", "outcome"], registry=r,
        )
        self.delivery_seconds = Histogram(
            "monitor_delivery_seconds", "Webhook delivery latency.", ["receiver"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.end_to_end_seconds = Histogram(
            "monitor_end_to_end_seconds", "From article fetched to alert delivered.",
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        # -- stages, bus and roles
        self.messages = Counter(
            "monitor_messages", "Bus messages handled by stage and outcome.",
            ["stage", "outcome"], registry=r,
        )
        self.errors = Counter(
            "monitor_errors", "Failures by stage, kind (retryable/permanent/poison) and reason.",
            ["stage", "kind", "reason"], registry=r,
        )
        self.consumer_lag = Gauge(
            "monitor_consumer_lag", "Records not yet consumed.",
            ["group", "topic", "partition"], registry=r,
        )
        self.stage_stalled = Gauge(
            "monitor_stage_stalled",
            "1 while a stage's consumer has records waiting and has read none for the "
            "watchdog's time; 0 again once it reads.", ["stage"], registry=r,
        )
        self.stage_stalls = Counter(
            "monitor_stage_stalls",
            "Stalls found by the stage watchdog (each re-creates the stage's consumer).",
            ["stage"], registry=r,
        )
        self.role_up = Gauge("monitor_role_up", "1 while a role is running.", ["role"], registry=r)
        self.role_restarts = Counter(
            "monitor_role_restarts", "Roles restarted after a crash.", ["role"], registry=r
        )


@cache
def build_labels() -> dict[str, str]:
    """``monitor_build_info``'s labels: the monitor's, Python's and spaCy's
    versions, and the form of the NLP modules (``compiled`` by mypyc, see
    setup.py, or ``python``)."""
    return {
        "version": _package_version("news-monitor", monitor.__version__),
        "python": platform.python_version(),
        "spacy": _package_version("spacy", "unknown"),
        "nlp": _nlp_form(),
    }


def _nlp_form() -> str:
    # Where the word splitter would load from, without importing the NLP stage.
    spec = importlib.util.find_spec("monitor.nlp.words")
    origin = spec.origin if spec is not None else None
    return "compiled" if origin is not None and origin.endswith(".so") else "python"


def _package_version(name: str, fallback: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return fallback
