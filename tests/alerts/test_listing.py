"""``monitor alerts list`` shows a story as a heading and one line per statement."""

from __future__ import annotations

import json

from monitor.alerts.grouping import regroup, story_id
from monitor.alerts.listing import as_json, as_line
from monitor.alerts.store import StoredAlert
from tests.alerts.test_delivery import alerts_from_fixture


def test_a_story_lists_each_statement_with_speaker_rules_and_matched_words() -> None:
    alerts = alerts_from_fixture(1)
    story = regroup(None, story_id("a0"), alerts, False, 1_800_000_000.0).notification
    assert story is not None
    stored = StoredAlert(story, 1_800_000_000.0, {"hook0": "delivered"})
    heading, *lines = as_line(stored).splitlines()
    assert f"story {story.id} rev 1 statements={len(story.statements)}" in heading
    assert "[hook0=delivered]" in heading and story.article.url in heading
    assert len(lines) == len(story.statements)
    for line, item in zip(lines, story.statements, strict=True):
        assert line.startswith(f"  {item.statement.speaker or 'unattributed'}: ")
        assert f"[{','.join(f.rule for f in item.rules)}]" in line
        for fired in item.rules:
            for match in fired.matches:
                assert match.text in line
    row = json.loads(as_json(stored))
    assert row["kind"] == "story" and row["revision"] == 1 and row["id"] == story.id
    assert [s["speaker"] for s in row["statements"]] == [
        s.statement.speaker for s in story.statements
    ]
    assert row["statements"][0]["matched"]


def test_an_alert_is_one_line_with_its_speaker_and_matched_words() -> None:
    alert = alerts_from_fixture(1)[0]
    line = as_line(StoredAlert(alert, 0.0, {}))
    assert "\n" not in line and "[pending]" in line
    assert f"{alert.statement.speaker or 'unattributed'}: " in line
    assert all(m.text in line for m in alert.matches)
    assert json.loads(as_json(StoredAlert(alert, 0.0, {})))["kind"] == "alert"
