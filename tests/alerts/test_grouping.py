"""One notification per story: the pure grouping and pacing decisions, and their store."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from monitor.alerts.delivery.progress import paced_until
from monitor.alerts.grouping import highest, regroup, story_id, story_of
from monitor.alerts.matching import alert_id
from monitor.alerts.state import StoryState
from monitor.alerts.story import Policy, Silence, decide
from monitor.messages import (
    Alert,
    ArticleRef,
    Evidence,
    Match,
    Source,
    Statement,
    StoryNotification,
)

NOW = 1_800_000_000.0
POLICY = Policy(
    story_window_s=3600,
    similarity=88,
    repeat_window_s=86400,
    rate_limit_count=2,
    rate_limit_per_s=3600,
)
ARTICLE = ArticleRef(
    id="art-1", url="https://n.example/a", title="Kremlin on the vote", feed_id="wire"
)


def alert(
    text: str,
    rule: str = "r-medium",
    severity: str = "medium",
    article: ArticleRef = ARTICLE,
    feed: str = "wire",
    speaker: str | None = "Peskov",
    labels: dict[str, str] | None = None,
) -> Alert:
    word = text.split()[0]
    return Alert(
        id=alert_id(rule, text),
        rule=rule,
        severity=severity,
        statement=Statement(
            text,
            0,
            len(text),
            ("election",),
            speaker,
            evidence=(Evidence("election", word, 0, len(word)),),
        ),
        article=article,
        matches=(Match(word.lower(), word, 0, len(word)),),
        created_at="2027-01-15T08:00:00Z",
        labels=labels or {"severity": severity},
        sources=(Source(feed, f"https://{feed}.example/feed", article.url),),
    )


def first(alerts: Sequence[Alert]) -> StoryNotification:
    decision = regroup(None, story_id(ARTICLE.id), alerts, False, NOW)
    assert decision.action == "new" and decision.notification is not None
    return decision.notification


def test_an_article_with_several_statements_and_rules_is_one_notification() -> None:
    alerts = [
        alert("Peskov said the vote was fair."),
        alert("Peskov said the vote was fair.", rule="r-high", severity="high"),
        alert("Lavrov warned against meddling.", speaker="Lavrov"),
    ]
    story = first(alerts)
    assert story.revision == 1 and story.id == story_id(ARTICLE.id)
    assert [s.statement.text for s in story.statements] == [
        "Peskov said the vote was fair.",
        "Lavrov warned against meddling.",
    ]
    assert [f.rule for f in story.statements[0].rules] == ["r-medium", "r-high"]
    assert story.rules == ("r-medium", "r-high")
    assert story.severity == "high"  # the highest that fired
    assert story.statements[1].statement.speaker == "Lavrov"
    assert story.statements[0].rules[0].matches[0].text == "Peskov"
    assert [s.feed_id for s in story.sources] == ["wire"]
    assert story.created_at == story.updated_at


def test_nothing_new_publishes_nothing_and_a_replay_republishes_the_same_revision() -> None:
    alerts = [alert("Peskov said the vote was fair.")]
    story = first(alerts)
    assert regroup(story, story.id, alerts, False, NOW + 10).action == "none"
    assert regroup(story, story.id, [], False, NOW + 10).action == "none"
    replay = regroup(story, story.id, alerts, True, NOW + 10)
    assert replay.action == "replay" and replay.notification == story
    assert regroup(None, "x", [], False, NOW).action == "none"


def test_a_new_statement_a_new_rule_or_a_new_source_is_a_new_revision() -> None:
    story = first([alert("Peskov said the vote was fair.")])
    for extra in (
        alert("Lavrov warned against meddling."),  # a new statement
        alert("Peskov said the vote was fair.", rule="r-high", severity="high"),  # a new rule
        alert("Peskov said the vote was fair.", feed="copydesk"),  # a new source
    ):
        decision = regroup(story, story.id, [extra], False, NOW + 60)
        assert decision.action == "revise" and decision.notification is not None
        revised = decision.notification
        assert revised.revision == 2 and revised.id == story.id
        assert revised.created_at == story.created_at and revised.updated_at != story.updated_at
    assert revised.sources[-1].feed_id == "copydesk"
    twice = regroup(revised, revised.id, [alert("A third thing was said.")], False, NOW + 90)
    assert twice.notification is not None and twice.notification.revision == 3


def test_the_story_is_found_through_any_alert_it_holds() -> None:
    membership = {"a2": "story-x"}
    assert story_of("art-9", ["a1", "a2"], membership) == "story-x"
    assert story_of("art-9", ["a1"], membership) == story_id("art-9")
    assert story_id("art-9") == story_id("art-9") != story_id("art-8")


def test_highest_severity_ranks_known_names() -> None:
    assert highest(["low", "critical", "medium"]) == "critical"
    assert highest(["info", "weird"]) == "info"
    assert highest([]) == "info"


def group(
    candidates: Sequence[Alert], silences: Sequence[Silence] = (), emissions: Sequence[float] = ()
) -> StoryNotification | None:
    """The sink's two pure steps for one article: decide per hit, then regroup."""
    passed = [
        d.alert
        for c in candidates
        if (d := decide(c, [], emissions, silences, NOW, POLICY)).alert is not None
    ]
    return regroup(None, story_id(ARTICLE.id), passed, False, NOW).notification


def test_a_silenced_rule_is_left_out_of_the_story_and_a_silenced_story_is_not_sent() -> None:
    hush = Silence("s1", NOW - 60, NOW + 60, rule="r-high")
    story = group(
        [
            alert("Peskov said the vote was fair."),
            alert("Peskov said the vote was fair.", rule="r-high", severity="high"),
        ],
        silences=[hush],
    )
    assert story is not None and story.rules == ("r-medium",) and story.severity == "medium"
    assert group([alert("Peskov said.", rule="r-high")], silences=[hush]) is None
    by_label = Silence("s2", NOW - 60, NOW + 60, labels=(("desk", "europe"),))
    assert group([alert("Peskov said.", labels={"desk": "europe"})], silences=[by_label]) is None


def test_a_rate_limited_rule_is_left_out_of_the_story() -> None:
    story = group(
        [
            alert("Peskov said the vote was fair."),
            alert("Lavrov said the count was fair.", rule="r-high", severity="high"),
        ],
        emissions=[NOW - 10, NOW - 5],
    )  # the limit (2 an hour) is reached
    assert story is None


def test_a_later_revision_waits_for_the_group_interval_and_an_old_one_never() -> None:
    assert paced_until(1, None, None, 300) == 0.0  # never sent: at once
    assert paced_until(2, 1, NOW, 300) == NOW + 300  # next revision: an interval later
    assert paced_until(3, 1, NOW, 0) == NOW
    assert paced_until(2, 2, NOW, 300) == 0.0  # nothing newer than what it has


def test_the_state_groups_a_syndicated_copy_into_the_original_story() -> None:
    state = StoryState()
    original = [
        alert("Peskov said the vote was fair."),
        alert("Lavrov warned against meddling.", speaker="Lavrov"),
    ]
    made = state.group_and_record(ARTICLE.id, [a.id for a in original], original, False, NOW)
    assert made.action == "new" and made.notification is not None
    copy = dataclasses.replace(ARTICLE, id="art-2", url="https://copy.example/a")
    merged = dataclasses.replace(
        original[0],
        sources=(*original[0].sources, Source("copydesk", "https://c.example/feed", copy.url)),
    )
    again = state.group_and_record(copy.id, [merged.id], [merged], False, NOW + 5)
    assert again.action == "revise" and again.notification is not None
    assert again.notification.id == made.notification.id
    assert [s.feed_id for s in again.notification.sources] == ["wire", "copydesk"]
    assert state.group_and_record(copy.id, [merged.id], [], False, NOW + 6).action == "none"
    assert state.notification(made.notification.id) == again.notification
