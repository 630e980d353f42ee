"""The SQLite stores: decisions persist across reopening; silences; history reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.alerts.state import StateStore
from monitor.alerts.store import AlertStore
from monitor.alerts.story import Policy
from monitor.messages import Source
from tests.alerts.test_delivery import alerts_from_fixture

POLICY = Policy(story_window_s=3600, similarity=88, repeat_window_s=86400,
                rate_limit_count=5, rate_limit_per_s=600)
NOW = 1_800_000_000.0


def test_story_state_survives_a_restart(tmp_path: Path) -> None:
    alert = alerts_from_fixture(1)[0]
    store = StateStore.in_dir(tmp_path)
    assert store.decide_and_record(alert, NOW, POLICY).action == "emit"
    store.close()
    reopened = StateStore.in_dir(tmp_path)
    copy = dataclasses.replace(
        alert, article=dataclasses.replace(alert.article, id="other", feed_id="f2"),
        sources=(Source("f2", "", "http://127.0.0.1/other"),))
    decision = reopened.decide_and_record(copy, NOW + 5, POLICY)
    assert decision.action == "update" and decision.alert is not None
    assert len(decision.alert.sources) == 2
    assert reopened.decide_and_record(copy, NOW + 6, POLICY).action == "replay"
    reopened.prune(NOW + 10_000_000)
    assert reopened.stories(alert.rule, 0) == []
    reopened.close()


def test_silences_apply_until_they_end_or_are_expired(tmp_path: Path) -> None:
    alert = alerts_from_fixture(1)[0]
    store = StateStore.in_dir(tmp_path)
    silence = store.add_silence(NOW, NOW + 60, rule=alert.rule, comment="noisy")
    assert store.decide_and_record(alert, NOW + 1, POLICY).reason == "silenced"
    assert store.expire_silence(silence.id, NOW + 2)
    assert store.decide_and_record(alert, NOW + 3, POLICY).action == "emit"
    store.close()


def test_history_merges_sources_and_searches(tmp_path: Path) -> None:
    alert = alerts_from_fixture(1)[0]
    store = AlertStore.in_dir(tmp_path)
    store.record(alert, NOW)
    extra = dataclasses.replace(alert, sources=(Source("late", "", "http://127.0.0.1/late"),))
    merged = store.record(extra, NOW + 1)
    assert [s.feed_id for s in merged.sources] == [alert.sources[0].feed_id, "late"]
    store.mark(alert.id, "hook", "delivered", 1, "", NOW + 2)
    [found] = store.search("ACCEPT ITS DEFEAT", 5)
    assert found.alert.id == alert.id and found.deliveries == {"hook": "delivered"}
    assert store.search("100%_nothing", 5) == []
    assert store.prune(NOW + 10) == 1 and store.recent(5) == []
    store.close()
