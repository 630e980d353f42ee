"""Spanish, Russian and a third language through the whole pipeline: feed →
poller → language identification and tagging → alert rules → signed webhook.

The articles (tests/fixtures/e2e-languages) are invented for this test. The
Spanish and Russian ones must raise alerts carrying their language, speaker,
tags and evidence; the French one is counted as a language not tagged
(``monitor_nlp_articles_total{language="other"}``, and on the status page)
and raises nothing.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.demo import ReceivedAlert, StaticSite, WebhookReceiver, serving
from tests.kafka_broker import KafkaTopics
from tests.support import REPO_ROOT, MonitorProcess, free_port, wait_for, write_config
from tests.test_end_to_end import alerts_of

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "e2e-languages"


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


def _alerts(received: list[ReceivedAlert]) -> list[dict[str, Any]]:
    """Every rule that fired on every statement, from the story notifications."""
    return alerts_of(list(received))


def _languages(received: list[ReceivedAlert]) -> set[str]:
    return {a["article"].get("language") for a in _alerts(received)}


def assert_language_alerts(received: list[ReceivedAlert]) -> None:
    alerts = _alerts(received)
    by_language: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        by_language.setdefault(alert["article"]["language"], []).append(alert)
    assert set(by_language) == {"es", "ru"}, by_language.keys()  # French raises nothing
    spanish = by_language["es"]
    assert any(a["rule"] == "election-result-disputed" for a in spanish)
    assert any("Marta Ibáñez" in (a["statement"]["speaker"] or "") for a in spanish)
    russian = by_language["ru"]
    assert any("foreign_interference" in a["statement"]["tags"] for a in russian)
    assert any("Песков" in (a["statement"]["speaker"] or "") for a in russian)
    for alert in alerts:
        assert alert["statement"]["evidence"], alert


def test_embedded_spanish_and_russian_raise_alerts_and_french_is_counted(
    tmp_path: Path, site: StaticSite, receiver: WebhookReceiver
) -> None:
    config = write_config(
        tmp_path, feeds=[("langwire", f"{site.base_url}/feed.xml")], receivers=[receiver.url]
    )
    daemon = Daemon(load_settings(config, environ={}), ("poller", "nlp", "alerts"))
    try:
        daemon.run_once()
    finally:
        daemon.close()
    assert_language_alerts(receiver.received)
    sample = daemon.metrics.registry.get_sample_value
    assert sample("monitor_nlp_articles_total", {"language": "other"}) == 1
    assert sample("monitor_nlp_articles_total", {"language": "es"}) == 1
    assert sample("monitor_nlp_articles_total", {"language": "ru"}) == 1


@pytest.mark.kafka
def test_kafka_daemon_tags_spanish_and_russian_and_shows_the_untagged_language(
    tmp_path: Path,
    site: StaticSite,
    receiver: WebhookReceiver,
    kafka_bootstrap: str,
    kafka_topics: KafkaTopics,
) -> None:
    port = free_port()
    config = write_config(
        tmp_path,
        feeds=[("langwire", f"{site.base_url}/feed.xml")],
        receivers=[receiver.url],
        bus=kafka_topics.bus_config(kafka_bootstrap),
        extra={"ops": {"http_port": port}},
    )
    daemon = MonitorProcess(config, "run")
    try:
        wait_for(lambda: _languages(receiver.received) >= {"es", "ru"}, 120, "es and ru alerts")
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        wait_for(
            lambda: 'monitor_nlp_articles_total{language="other"} 1.0' in _read(metrics_url),
            60,
            "the French article counted on /metrics",
        )
        page = _read(f"http://127.0.0.1:{port}/")
        assert "other 1 (not tagged)" in page, page[-2000:]
    finally:
        code = daemon.stop()
    assert code == 0, daemon.output()[-3000:]
    assert "Traceback" not in daemon.output()
    assert "is in fr, which is not tagged" in daemon.output()
    assert_language_alerts(receiver.received)


def _read(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
            body: bytes = response.read()
            return body.decode("utf-8")
    except OSError:
        return ""
