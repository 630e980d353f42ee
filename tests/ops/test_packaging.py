"""The operator-facing files agree with each other and with the code's defaults.

There is no Docker engine here, so Compose is checked for consistency (every
role a service, Prometheus discovering exactly those, mounted paths present);
the systemd unit goes through ``systemd-analyze verify`` where that tool
exists. ``promtool`` checks the Prometheus files in ``test_promtool.py``.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from monitor.ops.settings import OpsSettings
from monitor.roles import ROLE_NAMES
from tests.support import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
UNIT = REPO_ROOT / "config" / "systemd" / "news-monitor.service"
PROMETHEUS_CONFIG = REPO_ROOT / "config" / "prometheus" / "prometheus.yml"


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
    assert datasource["datasources"][0]["uid"] == "prometheus"  # what every panel names
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


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


def test_dockerfile_serves_the_default_ops_port() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert f"EXPOSE {OpsSettings().http_port}" in text
    assert 'ENTRYPOINT ["monitor"]' in text
