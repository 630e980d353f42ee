"""The pure parts of publishing: merging one batch's copies, and what to publish again."""

from __future__ import annotations

from monitor.feeds.publishing import decide, merged, revisions
from monitor.messages import Article, Source


def source(feed_id: str) -> Source:
    return Source(feed_id=feed_id, feed_url=f"http://{feed_id}.example/feed")


def article(article_id: str, *feed_ids: str, title: str = "t") -> Article:
    return Article(
        id=article_id,
        url=f"http://example.org/{article_id}",
        title=title,
        text="",
        text_source="none",
        feed_id=feed_ids[0],
        sources=tuple(source(f) for f in feed_ids),
        fetched_at="2024-01-01T00:00:00Z",
    )


def test_merged_keeps_the_first_copy_listing_every_copys_sources_in_order() -> None:
    found = [
        article("a", "f1", title="first"),
        article("b", "f1"),
        article("a", "f2", title="second"),
        article("a", "f3"),
    ]
    result = merged(found)
    assert [a.id for a in result] == ["a", "b"]
    assert result[0].title == "first"
    assert [s.feed_id for s in result[0].sources] == ["f1", "f2", "f3"]
    assert result[1] == found[1]


def test_revisions_list_recorded_then_new_sources_once_per_article() -> None:
    recorded = {"a": (source("f1"),), "b": (source("f1"), source("f2"))}
    candidates = [
        article("a", "f2", title="first"),
        article("a", "f3", title="second"),
        article("a", "f2", title="third"),  # f2 again: added once
        article("b", "f2"),  # every source already recorded
        article("c", "f4"),  # not published: nothing to add to
    ]
    [(copy, added)] = revisions(candidates, recorded)
    assert copy.id == "a" and copy.title == "first"
    assert [s.feed_id for s in copy.sources] == ["f1", "f2", "f3"]
    assert [s.feed_id for s in added] == ["f2", "f3"]


def test_revisions_give_nothing_once_the_sources_are_recorded() -> None:
    [(copy, _)] = revisions([article("a", "f2")], {"a": (source("f1"),)})
    assert revisions([article("a", "f2")], {"a": copy.sources}) == []


def test_decide_sorts_each_candidate_once_into_new_revision_or_duplicate() -> None:
    recorded = {"old": (source("f1"),), "carried": (source("f1"), source("f2"))}
    candidates = [
        article("fresh", "f1"),
        article("old", "f2"),
        article("carried", "f2"),
        article("fresh", "f3"),  # a second feed of this batch found it too
    ]
    decision = decide(candidates, recorded)
    [new] = decision.new
    assert new.id == "fresh" and [s.feed_id for s in new.sources] == ["f1", "f3"]
    [(revised, added)] = decision.revisions
    assert revised.id == "old" and [s.feed_id for s in revised.sources] == ["f1", "f2"]
    assert [s.feed_id for s in added] == ["f2"]
    assert decision.known == ("old", "carried")
    assert [a.id for a in decision.outgoing] == ["fresh", "old"]


def test_decide_on_nothing_publishes_nothing() -> None:
    assert decide([], {}).outgoing == []
    assert decide([article("a", "f1")], {"a": (source("f1"),)}).outgoing == []
