"""Highlighting evidence and rule matches in a statement (pure)."""

from __future__ import annotations

import dataclasses
import json

from monitor.messages import (
    Alert,
    ArticleRef,
    Evidence,
    Match,
    RuleFired,
    Source,
    Statement,
    StoryNotification,
    StoryStatement,
)
from monitor.ops.sources import FeedHealthView, Segment, alert_view, highlight, sort_worst_first


def test_highlight_splits_at_span_edges_and_combines_overlaps() -> None:
    assert highlight("abcdef", [(1, 4, "match"), (3, 5, "evidence")]) == (
        Segment("a"),
        Segment("bc", ("match",)),
        Segment("d", ("evidence", "match")),
        Segment("e", ("evidence",)),
        Segment("f"),
    )


def test_highlight_ignores_spans_outside_the_text() -> None:
    assert highlight("abc", [(2, 9, "match"), (-1, 1, "match"), (2, 2, "match")]) == (
        Segment("abc"),
    )
    assert highlight("", [(0, 1, "match")]) == ()


def alert(statement: Statement, matches: tuple[Match, ...]) -> Alert:
    return Alert(
        id="x", rule="r", severity="high", statement=statement,
        article=ArticleRef(id="a", url="https://n.example/a", title="T", feed_id="f"),
        matches=matches, created_at="2026-11-26T00:00:00Z",
    )


def test_alert_view_shifts_evidence_from_document_to_statement_offsets() -> None:
    text = "Moscow warned against meddling."
    statement = Statement(
        text=text, start=100, end=100 + len(text),
        evidence=(Evidence("foreign_interference", "meddling", 122, 130),),
    )
    view = alert_view(alert(statement, (Match("warn*", "warned", 7, 13),)))
    marked = [(s.text, sorted(s.marks)) for s in view.segments if s.marks]
    assert marked == [("warned", ["match"]), ("meddling", ["evidence"])]


def test_alert_view_finds_words_whose_offsets_are_wrong() -> None:
    text = "They said the vote was rigged."
    statement = Statement(text=text, start=0, end=len(text))
    matches = (Match("rigged", "rigged", 0, 6), Match("x", "absent", 1, 7))
    view = alert_view(alert(statement, matches))
    assert [s.text for s in view.segments if s.marks] == ["rigged"]


def test_feeds_sort_worst_first() -> None:
    rows = [FeedHealthView(i, "", s) for i, s in
            [("b", "ok"), ("a", "unknown"), ("c", "broken"), ("d", "degraded"), ("e", "broken")]]
    assert [r.feed_id for r in sort_worst_first(rows)] == ["c", "e", "d", "b", "a"]


def test_a_story_is_one_view_with_every_statement_its_speaker_rules_and_words() -> None:
    first = Statement("Peskov said the vote was fair.", 0, 30, ("election",), "Dmitry Peskov",
                      evidence=(Evidence("election", "vote", 16, 20),))
    second = Statement("Lavrov warned against meddling.", 0, 31, ("foreign_interference",),
                       "Sergei Lavrov")
    article = ArticleRef(id="a", url="https://n.example/a", title="T", feed_id="f")
    story = StoryNotification(
        id="s1", revision=2, severity="high", rules=("r-medium", "r-high"), article=article,
        statements=(
            StoryStatement(first, article, (
                RuleFired("r-medium", "medium", "x1", (Match("fair", "fair", 25, 29),)),
                RuleFired("r-high", "high", "x2", (Match("vote", "vote", 16, 20),)))),
            StoryStatement(second, article, (
                RuleFired("r-high", "high", "x3", (Match("meddl*", "meddling", 22, 30),)),)),
        ),
        sources=(Source("f", "", "https://n.example/a"), Source("g", "", "https://g.example/a")),
        created_at="2027-01-15T08:00:00Z", updated_at="2027-01-15T08:05:00Z",
    )
    view = alert_view(story)
    assert (view.id, view.revision, view.severity, view.sources) == ("s1", 2, "high", 2)
    assert view.rule == "r-medium, r-high"
    assert [(s.speaker, s.rules, s.matched) for s in view.statements] == [
        ("Dmitry Peskov", ("r-medium", "r-high"), ("fair", "vote")),
        ("Sergei Lavrov", ("r-high",), ("meddling",)),
    ]
    marked = [(s.text, sorted(s.marks)) for s in view.statements[0].segments if s.marks]
    assert marked == [("vote", ["evidence", "match"]), ("fair", ["match"])]
    assert view.tags == ("election", "foreign_interference")
    assert view.speaker == "Dmitry Peskov" and view.statement == first.text


def test_a_story_view_serialises_to_json_as_the_status_api_sends_it() -> None:
    text = "Peskov warned."
    statement = Statement(text, 0, len(text), ("election",), "Peskov")
    view = alert_view(alert(statement, (Match("warn*", "warned", 7, 13),)))
    sent = json.loads(json.dumps(dataclasses.asdict(view)))
    assert sent["statements"][0]["segments"][1] == {"text": "warned", "marks": ["match"]}
    assert sent["statements"][0]["matched"] == ["warned"]
