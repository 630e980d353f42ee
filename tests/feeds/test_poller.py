"""FeedPoller decisions, driven by the in-process fake fetcher and a frozen clock."""

from __future__ import annotations

import random
from pathlib import Path

from monitor.clock import FrozenClock
from monitor.feeds.errors import ServerError
from monitor.feeds.fake import FakeFetcher
from monitor.feeds.fetcher import FetchRequest, FetchResult
from monitor.feeds.poller import FeedPoller
from monitor.feeds.settings import FeedConfig, PollerSettings
from monitor.feeds.sites import SiteRules
from monitor.feeds.state import new_state
from monitor.messages import document_of, without_headline
from tests.feeds.builders import rss

URL = "https://feeds.example/wire"
FEED = FeedConfig(id="wire", url=URL)  # type: ignore[arg-type]


def make(
    tmp_path: Path, fetcher: FakeFetcher, **settings: object
) -> tuple[FeedPoller, FrozenClock]:
    clock = FrozenClock()
    poller = FeedPoller(
        PollerSettings.model_validate(settings), fetcher, SiteRules(), clock, random.Random(5),
    )
    return poller, clock


def test_summary_only_entry_falls_back_to_summary_when_page_fails(tmp_path: Path) -> None:
    body = rss([{"link": "https://news.example/s1", "title": "T", "description": "<b>Short</b>"}])
    fetcher = FakeFetcher({URL: FetchResult(200, URL, body)})
    poller, clock = make(tmp_path, fetcher)
    result = poller.poll(FEED, new_state("wire", URL, clock.now()))
    (article,) = result.articles
    assert article.text == "Short" and article.text_source == "summary"
    assert [r.url for r in fetcher.requests] == [URL, "https://news.example/s1"]


def test_entry_without_text_is_marked_none(tmp_path: Path) -> None:
    body = rss([{"link": "https://news.example/s1", "title": "Only a title"}])
    poller, clock = make(tmp_path, FakeFetcher({URL: FetchResult(200, URL, body)}),
                         fetch_pages=False)
    (article,) = poller.poll(FEED, new_state("wire", URL, clock.now())).articles
    assert article.text == "" and article.text_source == "none"


def test_unchanged_body_is_not_parsed_again(tmp_path: Path) -> None:
    body = rss([{"link": "https://news.example/s1", "title": "T", "content": "<p>x</p>"}])
    poller, clock = make(tmp_path, FakeFetcher({URL: FetchResult(200, URL, body)}))
    first = poller.poll(FEED, new_state("wire", URL, clock.now()))
    assert first.outcome == "changed" and len(first.articles) == 1
    clock.advance(600)
    second = poller.poll(FEED, first.state)
    assert second.outcome == "unchanged" and second.articles == ()


def test_not_modified_keeps_validators_and_reschedules(tmp_path: Path) -> None:
    body = rss([{"link": "https://news.example/s1", "title": "T", "content": "<p>x</p>"}])
    fetcher = FakeFetcher({URL: FetchResult(200, URL, body, etag='"e1"')})
    poller, clock = make(tmp_path, fetcher)
    first = poller.poll(FEED, new_state("wire", URL, clock.now()))
    clock.advance(900)
    second = poller.poll(FEED, first.state)
    assert second.outcome == "not_modified"
    assert second.state.etag == '"e1"' and second.state.next_poll_at > clock.now()
    assert fetcher.requests[-1].etag == '"e1"'


def test_permanent_redirect_moves_the_feed(tmp_path: Path) -> None:
    moved = "https://feeds.example/new"
    body = rss([{"link": "https://news.example/s1", "title": "T", "content": "<p>x</p>"}])
    fetcher = FakeFetcher({URL: FetchResult(200, moved, body, permanent_url=moved)})
    poller, clock = make(tmp_path, fetcher)
    result = poller.poll(FEED, new_state("wire", URL, clock.now()))
    assert result.state.url == moved and result.state.config_url == URL
    assert result.articles[0].sources[0].feed_url == moved


def test_failure_is_recorded_with_backoff(tmp_path: Path) -> None:
    poller, clock = make(tmp_path, FakeFetcher({URL: ServerError(f"HTTP 502 from {URL}")}))
    result = poller.poll(FEED, new_state("wire", URL, clock.now()))
    assert result.outcome == "error" and result.error is not None
    assert result.state.failures == 1 and result.state.last_error == f"HTTP 502 from {URL}"
    assert result.state.next_poll_at >= clock.now() + 60


def test_duplicate_entries_inside_one_feed_become_one_article(tmp_path: Path) -> None:
    item = {"link": "https://news.example/s1", "title": "T", "content": "<p>x</p>"}
    tracked = dict(item, link="https://news.example/s1?utm_source=a")
    poller, clock = make(tmp_path, FakeFetcher({URL: FetchResult(200, URL, rss([item, tracked]))}))
    result = poller.poll(FEED, new_state("wire", URL, clock.now()))
    assert len(result.articles) == 1


def test_recent_ids_travel_with_the_state_to_another_poller(tmp_path: Path) -> None:
    old = {"link": "https://news.example/s1", "title": "Old", "content": "<p>x</p>"}
    new = {"link": "https://news.example/s2", "title": "New", "content": "<p>y</p>"}
    first, clock = make(tmp_path / "a", FakeFetcher({URL: FetchResult(200, URL, rss([old]))}))
    state = first.poll(FEED, new_state("wire", URL, clock.now())).state
    assert len(state.recent_ids) == 1
    fetcher = FakeFetcher({URL: FetchResult(200, URL, rss([new, old]))})
    second, _ = make(tmp_path / "b", fetcher)
    result = second.poll(FEED, state)
    assert [a.title for a in result.articles] == ["New"]
    assert len(result.state.recent_ids) == 2


class ExplodingFetcher(FakeFetcher):
    def fetch(self, request: FetchRequest) -> FetchResult:
        raise RuntimeError("library bug\nwith a second line")


def test_an_unforeseen_exception_marks_the_feed_failed_in_one_line(tmp_path: Path) -> None:
    poller, clock = make(tmp_path, ExplodingFetcher())
    result = poller.poll(FEED, new_state("wire", URL, clock.now()))
    assert result.outcome == "error" and result.state.failures == 1
    assert result.state.last_error == "unexpected RuntimeError: library bug"
    assert result.state.error_reason == "unexpected"


def test_entry_cap_is_reported_and_feed_language_kept(tmp_path: Path) -> None:
    items = [{"link": f"https://news.example/s{i}", "title": f"T{i}", "content": "<p>x</p>"}
             for i in range(3)]
    body = rss(items, extra="<language>de-DE</language>")
    poller, clock = make(tmp_path, FakeFetcher({URL: FetchResult(200, URL, body)}),
                         max_entries_per_feed=2)
    result = poller.poll(FEED, new_state("wire", URL, clock.now()))
    assert [a.title for a in result.articles] == ["T0", "T1"]
    assert result.articles[0].language == "de-DE"
    assert result.parse_warning == "kept the first 2 of 3 entries"


def test_a_first_paragraph_repeating_the_headline_is_told_once(tmp_path: Path) -> None:
    body = rss([{"link": "https://news.example/s1", "title": "Vote  delayed",
                 "content": "<p>VOTE delayed</p><p>The vote was put off.</p>"}])
    poller, clock = make(tmp_path, FakeFetcher({URL: FetchResult(200, URL, body)}))
    (article,) = poller.poll(FEED, new_state("wire", URL, clock.now())).articles
    assert article.text == "The vote was put off."
    assert article.document == "Vote delayed\nThe vote was put off."


def test_the_document_adds_no_headline_to_a_body_that_opens_with_it() -> None:
    assert document_of("Vote delayed", "Vote delayed until May, officials said.") == (
        "Vote delayed until May, officials said."
    )
    assert document_of("", "Body.") == "Body."
    assert without_headline("Other first line\nBody.", "Vote delayed") == (
        "Other first line\nBody."
    )
