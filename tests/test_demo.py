"""``monitor demo`` (what ``scripts/demo`` runs): the bundled feeds give one story
notification per political article, each statement shown with its speaker, the
rules that fired and the words they matched."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.demo import (
    DEMO_DIR,
    ReceivedAlert,
    StaticSite,
    WebhookReceiver,
    describe_alert,
    serving,
    summary,
)
from tests.support import run_monitor, write_config
from tests.test_end_to_end import stored_alerts_page

#: The political articles of config/demo/site (the heatwave and the football club are not).
POLITICAL = ("kremlin-belarus-vote.html", "moldova-denial.html")


def test_the_demo_prints_one_notification_per_political_article() -> None:
    result = run_monitor(None, "demo")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "items handled" in result.stderr
    assert "2 notifications delivered for 2 stories" in result.stderr
    blocks = result.stdout.split("STORY ")[1:]
    assert len(blocks) == len(POLITICAL)
    for page, block in zip(sorted(POLITICAL), sorted(blocks, key=_page_of), strict=True):
        assert page in block
        statements = re.findall(r"^  - (.+): ", block, re.M)
        fired = re.findall(r"^    rules: (.+); matched: (.*); tags: ", block, re.M)
        assert statements and len(statements) == len(fired)
    assert "Dmitry Peskov: " in result.stdout and "Maria Zakharova: " in result.stdout
    assert "matched: lost the presidential election" in result.stdout
    assert "heatwave" not in result.stdout and "club-chairman" not in result.stdout


def _page_of(block: str) -> str:
    found = re.search(r"/articles/([\w.-]+)>", block)
    return found.group(1) if found else ""


def received(payload: dict[str, Any]) -> ReceivedAlert:
    return ReceivedAlert({}, b"", payload)


def test_a_story_revision_and_a_per_statement_alert_are_described() -> None:
    statement = {"text": "Vote rigged.", "speaker": "Ana", "tags": ["election"]}
    fired = {"rule": "r", "matches": [{"text": "rigged"}]}
    story: dict[str, Any] = {
        "schema": "story/1",
        "revision": 3,
        "severity": "high",
        "article": {"title": "T", "url": "https://n.example/a"},
        "sources": [{}, {}],
        "statements": [{"statement": statement, "rules": [fired]}],
        "id": "s",
    }
    text = describe_alert(received(story))
    assert text.startswith("STORY UPDATE (revision 3) [high] T")
    assert "  - Ana: Vote rigged.\n    rules: r; matched: rigged; tags: election" in text
    alert: dict[str, Any] = {
        "schema": "alert/2",
        "rule": "r",
        "severity": "low",
        "statement": statement,
        "matches": [{"text": "rigged"}],
        "article": {"title": "T", "url": "u"},
    }
    assert "Ana: Vote rigged.\n    matched: rigged" in describe_alert(received(alert))
    assert summary([received(story), received(story)]) == "2 notifications delivered for 1 stories"
    assert summary([received(alert)]) == "1 alerts delivered"


def test_the_demo_feeds_give_each_receiver_one_story_per_political_article_shown_grouped(
    tmp_path: Path,
) -> None:
    """Issue 13's first "Done when": with the demo feeds, every receiver gets one
    notification per political article, nothing more when nothing new arrives
    (a second run), and ``alerts list`` and the status page show each story grouped."""
    site, first, second = StaticSite(DEMO_DIR / "site"), WebhookReceiver(), WebhookReceiver()
    with serving(site), serving(first), serving(second):
        config = write_config(
            tmp_path,
            feeds=[("demo-world", f"{site.base_url}/world.xml"),
                   ("demo-politics", f"{site.base_url}/politics.atom")],
            receivers=[first.url, second.url],
        )
        for _ in range(2):  # the second run reads the same feeds: nothing new
            daemon = Daemon(load_settings(config, environ={}), ("poller", "nlp", "alerts"))
            try:
                daemon.run_once()
            finally:
                daemon.close()
    for receiver in (first, second):
        stories = [r.payload for r in receiver.received]
        assert sorted(str(s["article"]["url"]).rsplit("/", 1)[-1] for s in stories) == sorted(
            POLITICAL)
        assert {s["schema"] for s in stories} == {"story/1"}
        assert [s["revision"] for s in stories] == [1, 1]
    listed = run_monitor(config, "alerts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    shown = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(shown) == len(POLITICAL)
    by_id = {r.payload["id"]: r.payload for r in first.received}
    _, page = stored_alerts_page(config)
    for item in shown:
        story = by_id[item["id"]]
        assert item["kind"] == "story"
        assert item["deliveries"] == {"hook0": "delivered", "hook1": "delivered"}
        assert len(item["statements"]) == len(story["statements"]) >= 1
        matched: list[str] = []
        for listed_statement, sent in zip(item["statements"], story["statements"], strict=True):
            assert listed_statement["speaker"] == sent["statement"]["speaker"]
            words = list(dict.fromkeys(m["text"] for f in sent["rules"] for m in f["matches"]))
            assert listed_statement["matched"] == words
            matched.extend(words)
        assert matched  # a rule matched words in the story, and the page marks them
        for word in matched:
            assert html.escape(word) in page
        assert html.escape(str(story["article"]["title"])) in page


def test_the_receiver_keeps_a_connection_alive_and_ends_it_when_it_stops() -> None:
    receiver = WebhookReceiver()
    with httpx.Client() as client:
        with serving(receiver):
            for n in range(2):
                response = client.post(receiver.url, json={"n": n})
                assert response.status_code == 204
                assert response.http_version == "HTTP/1.1"
            assert len(receiver.received) == 2
            assert "close" not in response.headers.get("connection", "")
        # Stopped: the kept-alive connection does not go on being served.
        with pytest.raises(httpx.TransportError):
            client.post(receiver.url, json={"n": 2}, timeout=5)
    assert len(receiver.received) == 2
