"""The SQLite stores: decisions persist across reopening; silences; history reads."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.state import StateStore
from monitor.alerts.store import AlertStore
from monitor.alerts.story import Decision, Policy, decide
from monitor.messages import Alert, Source
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


def test_two_sinks_sharing_a_state_dir_emit_a_story_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = alerts_from_fixture(1)[0]
    copy = dataclasses.replace(
        alert, article=dataclasses.replace(alert.article, id="other", feed_id="f2"),
        sources=(Source("f2", "", "http://127.0.0.1/other"),))
    # Hold each sink between reading the state and writing its outcome until the
    # other has read too: the worst interleaving, made certain. A sink that
    # cannot get there because the other holds the file goes on after a while.
    both_read = threading.Barrier(2, timeout=1.0)

    def interleaved(*args: Any) -> Decision:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return decide(*args)

    monkeypatch.setattr("monitor.alerts.state.decide", interleaved)
    actions: list[str] = []

    # Each store has its own connection to the file, as another process would.
    stores = [StateStore.in_dir(tmp_path), StateStore.in_dir(tmp_path)]

    def sink(store: StateStore, candidate: Alert) -> None:
        actions.append(store.decide_and_record(candidate, NOW, POLICY).action)

    threads = [threading.Thread(target=sink, args=(store, candidate))
               for store, candidate in zip(stores, (alert, copy), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for store in stores:
        store.close()
    assert sorted(actions) == ["emit", "update"]


def _candidate(text: str, article_id: str) -> Alert:
    base = alerts_from_fixture(1)[0]
    return dataclasses.replace(
        base, id=f"id-{text}", statement=dataclasses.replace(base.statement, text=text),
        article=dataclasses.replace(base.article, id=article_id),
        sources=(Source(article_id, "", f"http://127.0.0.1/{article_id}"),))


def test_a_decision_reads_only_the_newest_stories_of_a_comparable_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A busy rule's window holds thousands of stories; a decision must not read them all."""
    store = StateStore(tmp_path / "s.sqlite3")
    policy = dataclasses.replace(POLICY, max_candidates=5, rate_limit_count=10_000)

    places = ["Arbor", "Zembla", "Florin", "Genovia", "Elbonia", "Sokovia", "Wakanda", "Latveria"]
    verbs = ["disputed", "praised", "questioned", "certified", "annulled"]

    def text(n: int) -> str:  # forty statements no two of which are one story
        place, verb = places[n % 8], verbs[n // 8]
        return f"Observers in {place} {verb} the count of ballot batch {n * 7919}"

    for n in range(40):
        store.decide_and_record(_candidate(text(n), f"a{n}"), NOW + n, policy)
    compared: list[int] = []

    def counting(candidate: Alert, stories: list[Any], *args: Any) -> Decision:
        compared.append(len(stories))
        return decide(candidate, stories, *args)

    monkeypatch.setattr("monitor.alerts.state.decide", counting)
    # The newest story is among the five read, so its copy from another outlet merges…
    assert store.decide_and_record(_candidate(text(39), "b39"), NOW + 100, policy).action \
        == "update"
    # …and a one-word statement is compared with none of the long ones.
    assert store.decide_and_record(_candidate("Recount.", "c1"), NOW + 101, policy).action \
        == "emit"
    assert compared == [5, 0]
    store.close()
