"""The shipped Prometheus files pass the real ``promtool`` (Debian's ``prometheus``
package; ``scripts/install-system-deps`` installs it).

* ``promtool check rules`` on the alerting rules;
* ``promtool test rules`` on their unit tests, ``config/prometheus/alerts.test.yml``,
  which must cover every alerting rule with a case where it fires and one where
  it does not;
* ``promtool check config`` on ``prometheus.yml`` as it lies in the checkout and
  as Compose mounts it in the container, run from an unrelated directory, so
  the rule path is relative to the file and not to where Prometheus starts.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO_ROOT

PROMETHEUS_DIR = REPO_ROOT / "config" / "prometheus"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts.test.yml"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
COMPOSE = REPO_ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is needed: apt-get install prometheus (scripts/install-system-deps)"
    return found


def run(promtool: str, *args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [promtool, *args], capture_output=True, text=True, check=False, cwd=cwd, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def alert_names() -> set[str]:
    doc = yaml.safe_load(RULES.read_text())
    return {rule["alert"] for group in doc["groups"] for rule in group["rules"] if "alert" in rule}


def test_promtool_check_rules(promtool: str) -> None:
    output = run(promtool, "check", "rules", str(RULES))
    assert f"SUCCESS: {len(alert_names())} rules found" in output


def test_promtool_test_rules(promtool: str) -> None:
    assert "SUCCESS" in run(promtool, "test", "rules", str(RULE_TESTS))


def test_rule_tests_cover_every_alert_firing_and_quiet() -> None:
    doc: dict[str, Any] = yaml.safe_load(RULE_TESTS.read_text())
    assert doc["rule_files"] == [RULES.name]
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in doc["tests"]:
        for check in case["alert_rule_test"]:
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert fires == alert_names(), "rules never seen firing: " + str(alert_names() - fires)
    assert quiet == alert_names(), "rules never seen quiet: " + str(alert_names() - quiet)


def test_rule_tests_include_a_receiver_with_only_superseded_and_other_non_failures() -> None:
    """The case that used to fire critical at 66 % with nothing failed."""
    doc: dict[str, Any] = yaml.safe_load(RULE_TESTS.read_text())
    for case in doc["tests"]:
        series = " ".join(s["series"] for s in case["input_series"])
        checks = case["alert_rule_test"]
        if ('outcome="superseded"' in series and 'outcome="delivered"' in series
                and all(c["alertname"] == "MonitorDeliveriesFailing" and not c.get("exp_alerts")
                        for c in checks)):
            return
    raise AssertionError("no quiet MonitorDeliveriesFailing case with superseded deliveries")


def test_promtool_check_config_in_the_checkout(promtool: str, tmp_path: Path) -> None:
    output = run(promtool, "check", "config", str(CONFIG), cwd=tmp_path)
    assert "SUCCESS: 1 rule files found" in output
    assert f"Checking {RULES}" in output


def test_promtool_check_config_where_compose_mounts_it(promtool: str, tmp_path: Path) -> None:
    """Lay out the files as the prometheus service sees them and check from /."""
    service = yaml.safe_load(COMPOSE.read_text())["services"]["prometheus"]
    [config_flag] = [c for c in service["command"] if c.startswith("--config.file=")]
    in_container = Path(config_flag.split("=", 1)[1])
    mounts = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts[Path(target)] = REPO_ROOT / source
    [(target, source)] = [(t, s) for t, s in mounts.items() if in_container.is_relative_to(t)]
    root = tmp_path / "container"
    shutil.copytree(source, root / target.relative_to("/"))
    laid_out = root / in_container.relative_to("/")
    output = run(promtool, "check", "config", str(laid_out), cwd=Path("/"))
    assert "SUCCESS: 1 rule files found" in output
    assert f"Checking {laid_out.parent / RULES.name}" in output
