"""The walking skeleton, end to end: feed → poller → NLP → alert rules → signed webhook.

The article gives one story notification per receiver, which ``monitor alerts
list`` and the status page show with every statement's speaker and matched words.

The same scenario runs on the embedded bus (in process) and on a real Kafka
broker (the daemon as a separate process). The article, written for these
tests in the style of a wire story, has a Kremlin spokesman telling an
opposition to accept defeat in a presidential election and warning third
countries against interfering; it ends in a donation appeal that must not
raise anything.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.demo import ReceivedAlert, StaticSite, WebhookReceiver, serving
from monitor.ops.page import PageData, render_live
from monitor.ops.readiness import Readiness
from monitor.ops.sources import AlertView, open_alert_history
from tests.kafka_broker import KafkaTopics
from tests.support import (
    REPO_ROOT,
    MonitorProcess,
    free_port,
    run_monitor,
    wait_for,
    write_config,
)

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
    """The payload of a generic webhook request: a story (``story/1``) or an alert."""
    payload = received.payload
    alert = payload.get("alert", payload)
    assert isinstance(alert, dict)
    return alert


def stored_alerts_page(config: Path) -> tuple[list[AlertView], str]:
    """The alert history a config's store holds (newest 10), and the status
    page's live section rendered from it."""
    history = open_alert_history(load_settings(config, environ={}))
    try:
        views = list(history.recent(10))
    finally:
        history.close()
    page = render_live(PageData(now=0.0, started_at=0.0, readiness=Readiness(True), roles=[],
                                alerts=views, query="", feeds=[], points=[]))
    return views, page


def alerts_of(received: list[ReceivedAlert]) -> list[dict[str, Any]]:
    """Every rule that fired on every statement, as alert-like dicts (``rule``,
    ``severity``, ``statement``, ``article``, ``matches``), from story
    notifications and per-statement alerts alike."""
    found: list[dict[str, Any]] = []
    for payload in (alert_of(r) for r in list(received)):
        if not str(payload.get("schema", "")).startswith("story/"):
            found.append(payload)
            continue
        for item in payload["statements"]:
            found.extend({**fired, "statement": item["statement"], "article": item["article"]}
                         for fired in item["rules"])
    return found


def has_interference_alert(received: list[ReceivedAlert]) -> bool:
    """Whether the warning against interfering has arrived (the last statement to alert)."""
    return any(
        "foreign_interference" in alert["statement"]["tags"]
        and "interfering" in alert["statement"]["text"]
        for alert in alerts_of(received)
    )


def assert_seed_style_alerts(received: list[ReceivedAlert], base_url: str) -> None:
    """One story for the article, with the interference warning and the 'accept
    defeat' statement flagged, nothing else."""
    assert received, "no alert reached the webhook"
    stories = [alert_of(r) for r in received]
    assert {s["schema"] for s in stories} == {"story/1"}
    assert len({s["id"] for s in stories}) == 1, "one story for the one article"
    newest = max(stories, key=lambda s: s["revision"])
    alerts = alerts_of(received)
    for alert in alerts:
        assert alert["article"]["url"] == base_url + ARTICLE_PATH
        assert alert["rule"]
        assert alert["statement"]["text"]
        assert set(alert["statement"]["tags"]) <= {"election", "foreign_interference"}
        for boilerplate in ("foreign agent", "undesirable", "support us monthly"):
            assert boilerplate not in alert["statement"]["text"]
        text = alert["statement"]["text"]  # every offset points into the statement text
        for span in (*alert["matches"], *alert["statement"]["evidence"],
                     *alert["statement"]["entities"]):
            assert text[span["start"]:span["end"]] == span["text"], span
    assert set(newest["rules"]) == {a["rule"] for a in alerts}
    interference = [a for a in alerts if "foreign_interference" in a["statement"]["tags"]]
    assert interference, f"no foreign-interference alert among {alerts}"
    warning = next(a for a in interference if "interfering" in a["statement"]["text"])
    assert warning["rule"] == "foreign-interference-warning"
    assert newest["severity"] == "high"
    assert any(m["text"].lower().startswith("interfer") for m in warning["matches"])
    speakers = {a["statement"]["speaker"] or "" for a in interference}
    assert any("Peskov" in speaker for speaker in speakers), speakers
    defeat = [a for a in alerts if "concede" in a["statement"]["text"]]
    assert any(a["rule"] == "election-result-disputed" for a in defeat), alerts
    for r in received:
        assert r.headers.get("Idempotency-Key") == alert_of(r)["id"]
        assert r.headers.get("webhook-signature", "").startswith("v1,")  # Standard Webhooks


def test_embedded_pipeline_raises_one_signed_story_shown_by_alerts_list_and_the_page(
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
    assert len(receiver.received) == 1  # one article, one notification
    registry = daemon.metrics.registry
    delivered = registry.get_sample_value("monitor_end_to_end_seconds_count")
    assert delivered == len(receiver.received)  # fetched → delivered latency observed
    story = alert_of(receiver.received[0])
    assert_the_story_is_listed_and_shown(config, story)


def assert_the_story_is_listed_and_shown(config: Path, story: dict[str, Any]) -> None:
    """``monitor alerts list`` (text and --json) and the status page's alert section
    show the story: each statement with its speaker and matched words."""
    listed = run_monitor(config, "alerts", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert f"story {story['id']} rev {story['revision']}" in lines[0]
    assert f"statements={len(story['statements'])}" in lines[0]
    as_json = json.loads(run_monitor(config, "alerts", "list", "--json").stdout.splitlines()[0])
    assert as_json["kind"] == "story" and as_json["deliveries"] == {"hook0": "delivered"}
    views, page = stored_alerts_page(config)
    assert len(views) == 1 and len(views[0].statements) == len(story["statements"])
    for item, line, shown in zip(story["statements"], lines[1:], as_json["statements"],
                                 strict=True):
        speaker = item["statement"]["speaker"] or "unattributed"
        words = list(dict.fromkeys(m["text"] for f in item["rules"] for m in f["matches"]))
        assert line.startswith(f"  {speaker}: ")
        assert ", ".join(words) in line
        assert shown["speaker"] == item["statement"]["speaker"] and shown["matched"] == words
        if item["statement"]["speaker"]:
            assert f"— {html.escape(item['statement']['speaker'])}" in page
        for word in words:
            assert '<span class="matched">' in page and html.escape(word) in page


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
    assert keys and len(keys) == len(set(keys))  # the second run found nothing new
    assert len(keys) == 1


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


@pytest.mark.kafka
def test_run_once_on_kafka_raises_the_story_and_another_machine_finds_nothing_new(
    tmp_path: Path,
    site: StaticSite,
    receiver: WebhookReceiver,
    kafka_bootstrap: str,
    kafka_topics: KafkaTopics,
) -> None:
    """``run --once`` with every role on Kafka drains the pipeline and exits 0; a
    second pass from another state folder (another machine) knows from the
    changelogs that the article was published and delivered, and sends nothing."""
    bus = kafka_topics.bus_config(kafka_bootstrap)
    feeds = [("testwire", f"{site.base_url}/feed.xml")]
    first = write_config(tmp_path / "machine-a", feeds=feeds, receivers=[receiver.url], bus=bus)
    done = run_monitor(first, "run", "--once", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert_seed_style_alerts(receiver.received, site.base_url)
    delivered = len(receiver.received)

    second = write_config(tmp_path / "machine-b", feeds=feeds, receivers=[receiver.url], bus=bus)
    again = run_monitor(second, "run", "--once", timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(receiver.received) == delivered


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
