"""Rendering the status page (pure): what comes from outside is escaped."""

from __future__ import annotations

from monitor.ops.page import PageData, RoleRow, render_live, render_page, sparkline
from monitor.ops.readiness import Readiness
from monitor.ops.sources import AlertView, FeedHealthView, Segment, StatementView


def data(**changes: object) -> PageData:
    base: dict[str, object] = dict(
        now=7200.0, started_at=0.0, readiness=Readiness(True), roles=[], alerts=[], query="",
        feeds=[], points=[],
    )
    base.update(changes)
    return PageData(**base)  # type: ignore[arg-type]


def view(url: str) -> AlertView:
    return AlertView(
        id='"x', rule="<r>", severity="high", created_at="t", statement="s",
        segments=(Segment("s", ("match",)),), tags=("election",), article_url=url,
        article_title="<b>title</b>", feed_id="f",
    )


def test_only_web_urls_become_links() -> None:
    html = render_live(data(alerts=[view("javascript:alert(1)"), view("https://n.example/?a=1&b=2")]))
    assert 'href="javascript' not in html
    assert 'href="https://n.example/?a=1&amp;b=2"' in html
    assert "&lt;b&gt;title&lt;/b&gt;" in html and "&lt;r&gt;" in html
    assert 'data-alert-id="&quot;x"' in html


def test_query_feed_errors_and_role_errors_are_escaped() -> None:
    page = render_page(
        data(
            query='"><img src=x>',
            feeds=[FeedHealthView("f", "u", "broken", 3, last_error="<iframe>")],
            roles=[RoleRow("nlp", False, 2, "crashed (<boom>)")],
            readiness=Readiness(False, ("role <nlp> is not running",)),
        ),
        nonce="n0nce",
    )
    for raw in ('"><img', "<iframe>", "<boom>", "<nlp>"):
        assert raw not in page
    assert '<span class="badge not-ready">not ready</span>' in page
    assert "up 2h 0m" in page


def test_sparkline_scales_into_the_box() -> None:
    svg = sparkline([0.0, 5.0, 10.0], width=100, height=20)
    assert 'points="0.0,18.0 50.0,10.0 100.0,2.0"' in svg
    assert "no data yet" in sparkline([1.0])


def test_articles_are_shown_by_language_with_the_untagged_ones_said_plainly() -> None:
    html = render_live(data(languages={"other": 2.0, "es": 1.0, "en": 12.0}))
    assert "Articles by language: en 12 · es 1 · other 2 (not tagged)" in html
    assert "Articles by language" not in render_live(data())


def test_articles_by_language_reads_the_metric() -> None:
    from monitor.ops.metrics import Metrics
    from monitor.ops.readiness import articles_by_language

    metrics = Metrics()
    metrics.nlp_articles.labels("ru").inc()
    metrics.nlp_articles.labels("other").inc(2)
    assert articles_by_language(metrics.registry) == {"ru": 1.0, "other": 2.0}


def test_a_story_shows_each_statement_with_speaker_rules_and_matched_words_escaped() -> None:
    statements = (
        StatementView("said <x>", (Segment("said "), Segment("<x>", ("match",))),
                      "<Ana>", ("election",), ("r<1>",), ("<x>",)),
        StatementView("warned", (Segment("warned", ("evidence",)),), None,
                      ("foreign_interference",), ("r2",), ("warned",)),
    )
    story = AlertView(
        id="s1", rule="r<1>, r2", severity="high", created_at="t", statement="said <x>",
        segments=statements[0].segments, tags=("election",), article_url="https://n.example/",
        article_title="T", feed_id="f", speaker="<Ana>", statements=statements, revision=3,
        sources=2,
    )
    html = render_live(data(alerts=[story]))
    assert html.count('<blockquote class="statement">') == 2
    assert '<mark class="match">&lt;x&gt;</mark>' in html and "— &lt;Ana&gt;" in html
    assert '<span class="rules">r&lt;1&gt;</span>' in html
    assert 'matched: <span class="matched">&lt;x&gt;</span>' in html
    assert "revision 3" in html and "2 sources" in html
    assert "<Ana>" not in html and "<x>" not in html
