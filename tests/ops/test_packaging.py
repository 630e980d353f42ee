"""The operator-facing files agree with each other and with the code's defaults.

There is no Docker engine here, so Compose is checked for consistency (every
role a service, Prometheus discovering exactly those, mounted paths present);
the systemd unit goes through ``systemd-analyze verify`` where that tool
exists. ``promtool`` checks the Prometheus files in ``test_promtool.py``.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from monitor.ops.settings import OpsSettings
from monitor.roles import ROLE_NAMES
from tests.support import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
UNIT = REPO_ROOT / "config" / "systemd" / "news-monitor.service"
PROMETHEUS_CONFIG = REPO_ROOT / "config" / "prometheus" / "prometheus.yml"
DASHBOARD = REPO_ROOT / "config" / "grafana" / "dashboards" / "news-monitor.json"
RUNTIME_LOCK = REPO_ROOT / "requirements.lock"
DEV_LOCK = REPO_ROOT / "requirements-dev.lock"
#: What the locks are resolved for (scripts/lock): the image's and CI's Python.
LOCK_TARGET = {
    "python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
    "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
    "implementation_name": "cpython", "platform_python_implementation": "CPython",
}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(doc, dict)
    return doc


def test_compose_runs_each_role_as_its_own_service_on_kafka() -> None:
    services = compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    for role in ROLE_NAMES:
        service = services[role]
        assert service["command"] == ["run", "--roles", role]
        assert service["environment"]["MONITOR_BUS__KIND"] == "kafka"
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
        grace = int(service["stop_grace_period"].rstrip("s"))
        assert grace > OpsSettings().shutdown_grace_s
        for published in service["ports"]:
            assert published.startswith("127.0.0.1:")


def test_prometheus_discovers_exactly_the_compose_roles_by_dns() -> None:
    """DNS discovery of the service names: every container of a scaled service is a target."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    [job] = config["scrape_configs"]
    assert "static_configs" not in job
    [dns] = job["dns_sd_configs"]
    port = compose()["services"]["poller"]["environment"]["MONITOR_OPS__HTTP_PORT"]
    assert set(dns["names"]) == set(ROLE_NAMES)
    assert dns["type"] == "A" and str(dns["port"]) == port


def test_prometheus_sends_alerts_to_an_alertmanager() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    [manager] = config["alerting"]["alertmanagers"]
    [dns] = manager["dns_sd_configs"]
    assert dns["names"] == ["alertmanager"] and dns["port"] == 9093


def test_compose_mounts_exist_and_grafana_finds_the_dashboards() -> None:
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), f"{name} mounts missing {source}"
    provider = yaml.safe_load(
        (REPO_ROOT / "config/grafana/provisioning/dashboards/news-monitor.yml").read_text()
    )
    mounted = {v.split(":")[1] for v in services["grafana"]["volumes"]}
    assert provider["providers"][0]["options"]["path"] in mounted
    datasource = yaml.safe_load(
        (REPO_ROOT / "config/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert datasource["datasources"][0]["uid"] == "prometheus"  # the dashboard's default
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def dashboard() -> dict[str, Any]:
    doc = json.loads(DASHBOARD.read_text())
    assert isinstance(doc, dict)
    return doc


def dashboard_targets() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query of the dashboard."""
    return [(panel, target) for panel in dashboard()["panels"]
            for target in panel.get("targets", [])]


def test_dashboard_has_datasource_job_and_instance_variables() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert list(variables) == ["datasource", "job", "instance"]
    source = variables["datasource"]
    assert source["type"] == "datasource" and source["query"] == "prometheus"
    assert source["current"]["value"] == "prometheus"  # the provisioned datasource's uid
    for name in ("job", "instance"):
        variable = variables[name]
        assert variable["type"] == "query"
        assert variable["datasource"]["uid"] == "${datasource}"
        assert variable["includeAll"] and variable["multi"] and variable["allValue"] == ".+"
        # Label values of a metric every monitor process exports.
        assert variable["definition"].startswith("label_values(monitor_build_info")
        assert variable["definition"] == variable["query"]["query"]
    assert 'monitor_build_info{job=~"$job"}' in variables["instance"]["definition"]
    metrics = (REPO_ROOT / "monitor" / "ops" / "metrics.py").read_text()
    assert '"monitor_build_info"' in metrics


def test_every_dashboard_query_uses_the_variables() -> None:
    targets = dashboard_targets()
    assert len(targets) >= 10
    for panel, target in targets:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert target["datasource"]["uid"] == "${datasource}", panel["title"]
        expr = target["expr"]
        selectors = re.findall(r"\b(monitor_[a-z_]+)(\{[^}]*\})?", expr)
        assert selectors, expr
        for name, matchers in selectors:
            assert 'job=~"$job"' in matchers and 'instance=~"$instance"' in matchers, (
                f"{panel['title']}: {name} is not filtered by $job and $instance"
            )


def test_dashboard_rates_use_the_rate_interval() -> None:
    """rate() over $__rate_interval; increase() too, or over $__range for a total."""
    for panel, target in dashboard_targets():
        expr = target["expr"]
        for function, window in re.findall(r"\b(rate|irate|increase)\(.*?\[([^\]]+)\]", expr):
            if function == "increase" and window == "$__range":
                # A total over the dashboard's time range: one instant value.
                assert target.get("instant") is True, panel["title"]
                assert "time range" in panel["title"]
            else:
                assert window == "$__rate_interval", f"{panel['title']}: [{window}]"
    assert not re.search(r"\[\d+[smhd]\]", json.dumps(dashboard()))


def test_systemd_unit_reloads_with_hup_and_outwaits_the_drain(tmp_path: Path) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT)
    service = unit["Service"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["KillSignal"] == "SIGTERM"
    assert float(service["TimeoutStopSec"]) > OpsSettings().shutdown_grace_s
    assert service["ExecStart"].endswith("monitor run")
    analyze = shutil.which("systemd-analyze")
    if analyze:  # a syntax check with the install path pointed at this checkout
        local = tmp_path / "news-monitor.service"
        here = str(REPO_ROOT / ".venv/bin/monitor")
        local.write_text(UNIT.read_text().replace("/opt/news-monitor/bin/monitor", here))
        result = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True,
                                check=False)
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def locked(lock: Path) -> dict[str, Version]:
    """Package (canonical name) → pinned version; every pin must carry a hash."""
    pins: dict[str, Version] = {}
    entries = re.split(r"\n(?=\S)", lock.read_text())
    for entry in entries:
        if entry.startswith("#") or not entry.strip():
            continue
        match = _PIN.match(entry)
        assert match, f"{lock.name}: not an exact pin: {entry.splitlines()[0]}"
        assert "--hash=sha256:" in entry, f"{lock.name}: {match[1]} has no hash"
        pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def unmet(requirements: list[str], pins: dict[str, Version]) -> list[str]:
    """The requirements (those that apply on the lock's target) the pins do not satisfy."""
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate(LOCK_TARGET):
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{text}: not in the lock")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{text}: the lock pins {pinned}")
    return problems


def test_lock_files_pin_every_dependency_of_pyproject() -> None:
    """Drift between pyproject.toml and the hashed locks fails here: run scripts/lock."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    runtime = project["project"]["dependencies"] + project["build-system"]["requires"]
    dev = runtime + project["project"]["optional-dependencies"]["dev"]
    for lock, wanted in ((RUNTIME_LOCK, runtime), (DEV_LOCK, dev)):
        problems = unmet(wanted, locked(lock))
        assert not problems, (
            f"{lock.name} disagrees with pyproject.toml; run scripts/lock and commit it:\n  "
            + "\n  ".join(problems)
        )


def test_dev_lock_holds_the_runtime_lock_versions() -> None:
    """The image and CI run the same versions of every package they share."""
    runtime, dev = locked(RUNTIME_LOCK), locked(DEV_LOCK)
    assert {name: dev.get(name) for name in runtime} == runtime
    assert {"check-jsonschema", "uv", "pytest"} <= dev.keys()


def test_lock_check_catches_a_missing_or_stale_pin() -> None:
    pins = {"httpx": Version("0.27.0"), "click": Version("8.1.7")}
    assert unmet(["httpx>=0.27", "click>=8.1", "pywin32; sys_platform == 'win32'"], pins) == []
    assert unmet(["httpx>=0.28", "slack-sdk>=3", "Click>=8"], pins) == [
        "httpx>=0.28: the lock pins 0.27.0", "slack-sdk>=3: not in the lock"
    ]


def test_bootstrap_and_image_install_from_the_locks_by_hash() -> None:
    bootstrap = (REPO_ROOT / "scripts" / "bootstrap").read_text()
    assert "lock=requirements-dev.lock" in bootstrap
    assert '--require-hashes --no-deps -r "$lock"' in bootstrap
    assert "--no-deps --no-build-isolation -e ." in bootstrap
    assert 'cat pyproject.toml "$lock" | sha256sum' in bootstrap  # the stamp
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r /src/requirements.lock" in dockerfile
    assert "--no-deps --no-build-isolation /src" in dockerfile
    images = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert len(images) == 2
    for image in images:  # an exact Python release on a named Debian suite, never `3.11-slim`
        assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", image), image
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".venv" in ignored


def test_dockerfile_serves_the_default_ops_port() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert f"EXPOSE {OpsSettings().http_port}" in text
    assert 'ENTRYPOINT ["monitor"]' in text
