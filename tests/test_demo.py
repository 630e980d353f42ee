"""``monitor demo`` (what ``scripts/demo`` runs): the bundled feeds give one story
notification per political article, each statement shown with its speaker, the
rules that fired and the words they matched."""

from __future__ import annotations

import re
from typing import Any

from monitor.demo import ReceivedAlert, describe_alert, summary
from tests.support import run_monitor

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
