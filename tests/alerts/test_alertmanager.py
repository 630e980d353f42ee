"""Delivery to a real Prometheus Alertmanager (Debian's prometheus-alertmanager)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.alerts.grouping import regroup, story_id
from monitor.alerts.payloads import STORY_ALERTNAME
from monitor.alerts.role import DeliveryRole
from monitor.alerts.settings import ReceiverSettings
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.clock import parse_iso
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import settings_for
from tests.alerts.test_delivery import alerts_from_fixture

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
CONFIG = """
route:
  receiver: blackhole
  group_by: [alertname]
receivers:
  - name: blackhole
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    if not Path(BINARY).exists():
        pytest.fail(f"{BINARY} not found: install Debian's prometheus-alertmanager",
                    pytrace=False)
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG)
    port = _free_port()
    process = subprocess.Popen(
        [BINARY, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"alertmanager did not start: {process.stderr.read()!r}"
                                   if process.stderr else "alertmanager did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


class PinnedClock:
    """The wall clock stopped at one whole second (so endsAt is known exactly);
    the monotonic clock runs on, for the delivery engine's waits."""

    def __init__(self) -> None:
        self.at = float(int(time.time()))

    def now(self) -> float:
        return self.at

    def monotonic(self) -> float:
        return time.monotonic()


def test_alerts_reach_alertmanager_once_each(tmp_path: Path, alertmanager: str) -> None:
    settings = settings_for(tmp_path, [ReceiverSettings(
        name="am", kind="alertmanager", url=alertmanager,  # type: ignore[arg-type]
        resolve_after_s=5400)])
    bus = MemoryBus()
    alerts = alerts_from_fixture(3)
    producer = bus.producer()
    for alert in [*alerts, alerts[0]]:  # the first one is read twice (a replayed record)
        producer.send(settings.bus.topics.alerts, alert.id, encode(alert))
    metrics = Metrics()
    clock = PinnedClock()
    role = DeliveryRole(RoleContext(settings, bus, metrics, clock))
    role.run_once(idle_s=0.3)
    role.close()

    listed = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    ours = [a for a in listed if a["labels"].get("source") == "news-monitor"]
    assert sorted(a["labels"]["alert_id"] for a in ours) == sorted(a.id for a in alerts)
    by_id = {a["labels"]["alert_id"]: a for a in ours}
    first = by_id[alerts[0].id]
    assert first["labels"]["alertname"] == alerts[0].rule
    assert first["annotations"]["summary"] == alerts[0].statement.text
    assert first["annotations"]["article_url"] == alerts[0].article.url
    assert first["generatorURL"] == alerts[0].article.url
    # Alertmanager keeps the end we sent (not its own resolve_timeout): each
    # alert fires until resolve_after_s after it was posted.
    for alert in ours:
        assert alert["status"]["state"] == "active"
        assert parse_iso(alert["endsAt"]) == clock.at + 5400
    sent = metrics.registry.get_sample_value(
        "monitor_deliveries_total", {"receiver": "am", "outcome": "delivered"})
    assert sent == len(alerts)


def test_a_story_is_one_alertmanager_alert_across_its_revisions(
    tmp_path: Path, alertmanager: str
) -> None:
    settings = settings_for(tmp_path, [ReceiverSettings(
        name="am", kind="alertmanager", url=alertmanager)],  # type: ignore[arg-type]
        group_interval_s=0)
    bus = MemoryBus()
    alerts = alerts_from_fixture(2)
    first = regroup(None, story_id("a0"), alerts[:1], False, 1_700_000_000.0).notification
    assert first is not None
    second = regroup(first, first.id, alerts, False, 1_700_000_060.0).notification
    assert second is not None and second.revision == 2
    clock = PinnedClock()
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), clock))
    for story in (first, second):
        bus.producer().send(settings.bus.topics.alerts, story.id, encode(story))
        role.run_once(idle_s=0.3)
    role.close()

    listed = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    ours = [a for a in listed if a["labels"].get("source") == "news-monitor"]
    assert len(ours) == 1  # both revisions merged into one alert: its labels never change
    alert = ours[0]
    assert alert["labels"] == {"alertname": STORY_ALERTNAME, "story_id": first.id,
                               "source": "news-monitor"}
    assert alert["annotations"]["revision"] == "2"
    assert alert["annotations"]["severity"] == second.severity
    assert alert["annotations"]["rules"] == ", ".join(second.rules)
    assert alert["generatorURL"] == first.article.url
    assert parse_iso(alert["endsAt"]) == clock.at + 3600
