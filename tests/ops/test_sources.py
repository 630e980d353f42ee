"""Highlighting evidence and rule matches in a statement (pure)."""

from __future__ import annotations

from monitor.messages import Alert, ArticleRef, Evidence, Match, Statement
from monitor.ops.sources import FeedHealthView, Segment, alert_view, highlight, sort_worst_first


def test_highlight_splits_at_span_edges_and_combines_overlaps() -> None:
    assert highlight("abcdef", [(1, 4, "match"), (3, 5, "evidence")]) == (
        Segment("a"),
        Segment("bc", frozenset({"match"})),
        Segment("d", frozenset({"match", "evidence"})),
        Segment("e", frozenset({"evidence"})),
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
