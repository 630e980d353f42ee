"""The registry the daemon serves carries the runtime collectors and the build info,
on the registry passed in and never on prometheus_client's global one."""

from __future__ import annotations

import platform
from importlib import metadata

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from monitor.ops.metrics import Metrics


def families(registry: CollectorRegistry) -> set[str]:
    return {family.name for family in registry.collect()}


def test_process_platform_and_gc_collectors_are_on_the_given_registry() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    names = families(registry)
    assert {"process_cpu_seconds", "process_resident_memory_bytes",
            "process_open_fds"} <= names  # Linux: /proc is there
    assert "python_info" in names
    assert {"python_gc_objects_collected", "python_gc_collections"} <= names


def test_build_info_is_one_and_names_the_versions() -> None:
    metrics = Metrics()
    [family] = [f for f in metrics.registry.collect() if f.name == "monitor_build_info"]
    [sample] = family.samples
    assert sample.value == 1
    assert sample.labels["version"] == metadata.version("news-monitor")
    assert sample.labels["python"] == platform.python_version()
    assert sample.labels["spacy"] == metadata.version("spacy")
    assert sample.labels["nlp"] == "python"  # this suite runs the sources (an editable install)
    assert "monitor_build_info{" in generate_latest(metrics.registry).decode()


def test_two_monitors_in_one_process_do_not_collide_nor_touch_the_global_registry() -> None:
    before = families(REGISTRY)
    first, second = Metrics(), Metrics()
    assert families(first.registry) == families(second.registry)
    assert families(REGISTRY) == before
