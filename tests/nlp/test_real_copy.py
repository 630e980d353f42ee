"""Acceptance on real news copy: the CNN and Korea Times feeds captured in
Media Cloud's rss-fetcher tests (in ../shared/peer-feeds; the text stays there).

264 items of everyday news: politics, markets, sport, culture. None is about
one state meddling in another's politics, a handful are about elections. The
checks are the mistakes first found on this copy: cue words read inside names
("International Monetary Fund"), money senses ("stock manipulation"), a day or
a company suffix given as a speaker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.feeds.fulltext import html_to_text
from monitor.feeds.parsing import parse_feed
from monitor.nlp.result import TagResult
from monitor.nlp.tagger import Tagger
from tests.nlp.conftest import REPO

FIXTURES = REPO.parent / "shared" / "peer-feeds" / "mediacloud-rss-fetcher" / "fetcher" / "test"
FEEDS = [FIXTURES / "fixtures" / "real-korean-times.rss", FIXTURES / "fixtures" / "real-cnn.rss"]

pytestmark = [
    pytest.mark.ci_only,
    pytest.mark.skipif(
        not all(feed.exists() for feed in FEEDS),
        reason=f"{FIXTURES} is absent (only CI and developer machines have ../shared)",
    ),
]


def _items(tagger: Tagger) -> Iterator[tuple[str, TagResult]]:
    """(link, result) per item; the text is the title, a line break and the
    body (content, else summary), the shape of ``Article.document``."""
    for path in FEEDS:
        for entry in parse_feed(path.read_bytes()).entries:
            title = html_to_text(entry.title).replace("\n", " ")
            text = f"{title}\n{html_to_text(entry.content or entry.summary)}"
            yield entry.link or "", tagger.tag(text)


@pytest.fixture(scope="module")
def items(tagger: Tagger) -> list[tuple[str, TagResult]]:
    return list(_items(tagger))


def test_no_item_is_tagged_foreign_interference(items: list[tuple[str, TagResult]]) -> None:
    assert len(items) == 264
    tagged = [
        (link, s.text[:80])
        for link, result in items
        for s in result.statements
        if "foreign_interference" in s.tags
    ]
    assert tagged == []


def test_election_stories_are_tagged(items: list[tuple[str, TagResult]]) -> None:
    tagged = {link for link, r in items if any("election" in s.tags for s in r.statements)}
    for story in ("alex-lasry-ends-senate-campaign", "cnn-poll-biden-2024", "election-integrity"):
        assert any(story in link for link in tagged), story
    assert len(tagged) <= 15  # of 264 items of everyday news


def test_speakers_are_names(items: list[tuple[str, TagResult]]) -> None:
    not_names = {"monday", "tuesday", "wednesday", "thursday", "friday", "inc", "co", "corp"}
    speakers = {s.speaker for _, r in items for s in r.statements if s.speaker}
    assert len(speakers) > 40
    for speaker in speakers:
        assert speaker.lower() not in not_names, speaker
        assert not speaker.endswith((".", "'", "’", ",")), speaker
