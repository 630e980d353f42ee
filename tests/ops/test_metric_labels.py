"""Label values stay bounded: fixed strings, or names an operator wrote in config.

A label value taken from data (a feed URL, an article id, an error message)
would create a new time series per value and swamp Prometheus. After a real
pass of every role (a good feed, a feed that fails, a receiver that is down),
every label value of every monitor metric must come from a bounded set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.alerts.rules import load_rules
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.demo import StaticSite, serving
from monitor.roles import STAGE_NAMES
from tests.support import REPO_ROOT, free_port, write_config

#: Labels whose values the code chooses: short lower-case identifiers.
FIXED = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: monitor_build_info's labels are the versions of what the process runs (one series).
VERSION = re.compile(r"^[0-9A-Za-z.+_-]{1,40}$")


@pytest.fixture
def site() -> Iterator[StaticSite]:
    site = StaticSite(REPO_ROOT / "tests" / "fixtures" / "e2e")
    with serving(site):
        yield site


def test_every_label_value_is_a_fixed_string_or_a_configured_name(
    tmp_path: Path, site: StaticSite
) -> None:
    down = f"http://127.0.0.1:{free_port()}/hook"
    config = write_config(
        tmp_path,
        feeds=[("wire", f"{site.base_url}/feed.xml"), ("gone", f"{site.base_url}/missing.xml")],
        receivers=[down],
        extra={"alerts": {"retry": {"max_attempts": 1}}},
    )
    settings = load_settings(config, environ={})
    daemon = Daemon(settings, ("poller", "nlp", "alerts"))
    try:
        daemon.run_once()
    finally:
        daemon.close()
    configured = {
        "rule": {rule.name for rule in load_rules(settings.rules_file).rules},
        "receiver": {r.name for r in settings.alerts.receivers},
        "topic": set(settings.bus.topics.all()),
        "group": set(settings.bus.groups.model_dump().values()) | set(STAGE_NAMES),
    }
    checked = 0
    for family in daemon.metrics.registry.collect():
        if not family.name.startswith("monitor_"):
            continue
        for sample in family.samples:
            for label, value in sample.labels.items():
                checked += 1
                if family.name == "monitor_build_info":
                    assert VERSION.match(value), (family.name, label, value)
                elif label in configured:
                    assert value in configured[label], (family.name, label, value)
                elif label in ("partition", "le", "quantile"):
                    assert re.fullmatch(r"[0-9.+Inf]+", value), (family.name, label, value)
                else:
                    assert FIXED.match(value), (family.name, label, value)
    assert checked > 50  # the pass really produced labelled series
