"""The walking skeleton, end to end: feed → poller → NLP → alert rules → signed webhook.

The same scenario runs on the embedded bus (in process) and on a real Kafka
broker (the daemon as a separate process). The article, written for these
tests in the style of a wire story, has a Kremlin spokesman telling an
opposition to accept defeat in a presidential election and warning third
countries against interfering; it ends in a donation appeal that must not
raise anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.demo import ReceivedAlert, StaticSite, WebhookReceiver, serving
from tests.kafka_broker import KafkaTopics
from tests.support import REPO_ROOT, MonitorProcess, free_port, wait_for, write_config

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "e2e"
ARTICLE_PATH = "/articles/kremlin-bolivia.html"


@pytest.fixture
def site() -> Iterator[StaticSite]:
    server = StaticSite(FIXTURES)
    with serving(server):
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    with serving(server):
        yield server


def alert_of(received: ReceivedAlert) -> dict[str, Any]:
    """The alert object inside a generic webhook payload."""
    payload = received.payload
    alert = payload.get("alert", payload)
    assert isinstance(alert, dict)
    return alert


def has_interference_alert(received: list[ReceivedAlert]) -> bool:
    """Whether the warning against interfering has arrived (the last statement to alert)."""
    return any(
        "foreign_interference" in alert_of(r)["statement"]["tags"]
        and "interfering" in alert_of(r)["statement"]["text"]
        for r in list(received)
    )


def assert_seed_style_alerts(received: list[ReceivedAlert], base_url: str) -> None:
    """The interference warning and the 'accept defeat' statement were flagged, nothing else."""
    assert received, "no alert reached the webhook"
    alerts = [alert_of(r) for r in received]
    for alert in alerts:
        assert alert["article"]["url"] == base_url + ARTICLE_PATH
        assert alert["rule"]
        assert alert["statement"]["text"]
        assert set(alert["statement"]["tags"]) <= {"election", "foreign_interference"}
        for boilerplate in ("foreign agent", "undesirable", "support us monthly"):
            assert boilerplate not in alert["statement"]["text"]
    interference = [a for a in alerts if "foreign_interference" in a["statement"]["tags"]]
    assert interference, f"no foreign-interference alert among {alerts}"
    warning = next(a for a in interference if "interfering" in a["statement"]["text"])
    assert warning["rule"] == "foreign-interference-warning"
    assert any(m["text"].lower().startswith("interfer") for m in warning["matches"])
    for match in warning["matches"]:  # offsets point into the statement text
        assert warning["statement"]["text"][match["start"]:match["end"]] == match["text"]
    speakers = {a["statement"]["speaker"] or "" for a in interference}
    assert any("Peskov" in speaker for speaker in speakers), speakers
    defeat = [a for a in alerts if "concede" in a["statement"]["text"]]
    assert any(a["rule"] == "election-result-disputed" for a in defeat), alerts
    for r in received:
        assert r.headers.get("Idempotency-Key")
        assert r.headers.get("webhook-signature", "").startswith("v1,")  # Standard Webhooks


def test_embedded_pipeline_raises_a_signed_alert(
    tmp_path: Path, site: StaticSite, receiver: WebhookReceiver
) -> None:
    config = write_config(
        tmp_path, feeds=[("testwire", f"{site.base_url}/feed.xml")], receivers=[receiver.url]
    )
    daemon = Daemon(load_settings(config, environ={}), ("poller", "nlp", "alerts"))
    try:
        daemon.run_once()
    finally:
        daemon.close()
    assert_seed_style_alerts(receiver.received, site.base_url)
    registry = daemon.metrics.registry
    delivered = registry.get_sample_value("monitor_end_to_end_seconds_count")
    assert delivered == len(receiver.received)  # fetched → delivered latency observed


def test_embedded_pipeline_publishes_each_article_once_across_runs(
    tmp_path: Path, site: StaticSite, receiver: WebhookReceiver
) -> None:
    config = write_config(
        tmp_path, feeds=[("testwire", f"{site.base_url}/feed.xml")], receivers=[receiver.url]
    )
    for _ in range(2):
        daemon = Daemon(load_settings(config, environ={}), ("poller", "nlp", "alerts"))
        try:
            daemon.run_once()
        finally:
            daemon.close()
    keys = [r.headers["Idempotency-Key"] for r in receiver.received]
    assert keys and len(keys) == len(set(keys))


@pytest.mark.kafka
def test_kafka_daemon_raises_a_signed_alert_and_stops_cleanly(
    tmp_path: Path,
    site: StaticSite,
    receiver: WebhookReceiver,
    kafka_bootstrap: str,
    kafka_topics: KafkaTopics,
) -> None:
    config = write_config(
        tmp_path,
        feeds=[("testwire", f"{site.base_url}/feed.xml")],
        receivers=[receiver.url],
        bus=kafka_topics.bus_config(kafka_bootstrap),
    )
    daemon = MonitorProcess(config, "run")
    try:
        wait_for(lambda: has_interference_alert(receiver.received), 120, "alerts over Kafka")
    finally:
        code = daemon.stop()
    assert code == 0, daemon.output()[-3000:]
    assert "Traceback" not in daemon.output()
    assert_seed_style_alerts(receiver.received, site.base_url)


def test_webhook_down_then_up_the_alert_is_retried_not_dropped(
    tmp_path: Path, site: StaticSite
) -> None:
    port = free_port()
    config = write_config(
        tmp_path,
        feeds=[("testwire", f"{site.base_url}/feed.xml")],
        receivers=[f"http://127.0.0.1:{port}/alerts"],
    )
    daemon = MonitorProcess(config, "run")
    try:
        # The receiver is down: wait until a delivery to it has failed and been logged.
        wait_for(lambda: "hook0" in daemon.output(), 120, "a failed delivery to hook0")
        late = WebhookReceiver(port=port)
        with serving(late):
            wait_for(lambda: has_interference_alert(late.received), 120, "the retried alerts")
    finally:
        code = daemon.stop()
    assert code == 0, daemon.output()[-3000:]
    assert "Traceback" not in daemon.output()
    assert_seed_style_alerts(late.received, site.base_url)
