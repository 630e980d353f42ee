"""``monitor parse-feed`` and ``monitor feeds status`` through click's runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import yaml
from click.testing import CliRunner

from monitor.bus.codec import decode
from monitor.bus.memory import MemoryBus
from monitor.cli import cli
from monitor.clock import SystemClock
from monitor.config import load_settings
from monitor.feeds.fake import FakeFetcher
from monitor.feeds.fetcher import FetchResult
from monitor.feeds.role import PollerRole
from monitor.messages import Article
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.feeds.builders import FIXTURES, rss, settings_for
from tests.feeds.helpers import Poller
from tests.feeds.httpserver import FeedServer, Reply


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def run(*args: str) -> tuple[int, list[str], list[str]]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


def test_parse_feed_prints_one_json_line_per_entry() -> None:
    code, out, err = run("parse-feed", str(FIXTURES / "atom10.xml"))
    assert code == 0 and err == []
    first, second = (json.loads(line) for line in out)
    for key in ("source", "id", "url", "title", "published", "updated", "author", "summary",
                "content", "feed_title", "feed_link"):
        assert key in first
    assert first["url"] == "https://gazette.example/2025/ferry?utm_campaign=feed"
    assert first["feed_title"] == "Harbour Gazette"
    assert first["feed_link"] == "https://gazette.example/"
    assert second["published"] is None


def test_recovered_feed_warns_and_exits_zero() -> None:
    source = str(FIXTURES / "illformed.xml")
    code, out, err = run("parse-feed", source)
    assert code == 0 and len(out) == 2
    assert len(err) == 1 and err[0].startswith(f"warning: {source}: recovered ill-formed feed")


def test_bad_sources_are_reported_and_others_go_on(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    html.write_text("<html><body><p>hello</p></body></html>")
    missing = tmp_path / "missing.xml"
    good = str(FIXTURES / "rss10.rdf")
    code, out, err = run("parse-feed", str(html), str(missing), good,
                         "http://127.0.0.1:9/feed")
    assert code == 1
    assert len(out) == 1 and json.loads(out[0])["source"] == good
    assert err[0].startswith(f"error: {html}: not a feed")
    assert err[1].startswith(f"error: {missing}: cannot read")
    assert err[2].startswith("error: http://127.0.0.1:9/feed: ") and "non-public" in err[2]


def test_parser_out_of_memory_is_one_error_line_and_the_others_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb, good = str(FIXTURES / "atom10.xml"), str(FIXTURES / "rss10.rdf")
    real = feedparser.parse

    def parse(body: bytes, *args: object, **kwargs: object) -> object:
        if b"Harbour Gazette" in body:
            raise MemoryError()
        return real(body, *args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", parse)
    result = CliRunner().invoke(cli, ["parse-feed", bomb, good], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {bomb}: parser exhausted resources (MemoryError)"
    ]
    assert len(result.stdout.splitlines()) == 1 and "Traceback" not in result.output


def test_parse_feed_fetches_urls(server: FeedServer) -> None:
    server.routes["/f"] = Reply(200, rss([{"title": "Over HTTP", "link": "https://a.example/1"}]))
    code, out, _ = run("parse-feed", "--allow-private-addresses", server.url("/f"))
    assert code == 0 and json.loads(out[0])["title"] == "Over HTTP"


def test_feeds_status_prints_the_health_table(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/ok"] = Reply(200, rss([{"title": "x", "link": "https://a.example/1"}]))
    settings = settings_for(tmp_path, {"good": server.url("/ok"), "gone": server.url("/404")})
    role = PollerRole(RoleContext(settings, MemoryBus(), Metrics(), SystemClock()))
    role.run_once()
    role.close()
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump({"state_dir": str(settings.state_dir)}))
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    code, out, _ = run("--config", str(config), "feeds", "status")
    assert code == 0
    assert out[0].split()[:3] == ["FEED", "HEALTH", "FAILS"]
    gone, good = out[1].split(), out[2].split()
    assert gone[:3] == ["gone", "degraded", "1"] and "HTTP 404" in out[1]
    assert good[:3] == ["good", "ok", "0"]
    code, out, _ = run("--config", str(config), "feeds", "status", "--json")
    assert {json.loads(line)["feed_id"] for line in out} == {"good", "gone"}


def test_parse_feed_prints_the_id_the_poller_publishes(tmp_path: Path) -> None:
    feed_url = "https://feeds.example/one"
    body = rss([{"link": "https://www.news.example.org/a2?utm_source=rss&src=feed&page=2#top",
                 "title": "Tracked", "content": "<p>Body.</p>"}])
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / "state"),
        "poller": {"tracking_params": ["utm_*", "src"], "strip_www": True},
    }))
    feeds = {"feeds": [{"id": "one", "url": feed_url}]}
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump(feeds))
    settings = load_settings(config)
    bus = MemoryBus()
    fetcher = FakeFetcher({feed_url: FetchResult(200, feed_url, body=body)})
    role = Poller(settings, bus, fetcher=fetcher)
    assert role.run_once() == 1
    role.close()
    (record,) = bus.records_in(settings.bus.topics.articles)
    published = decode(record.value, Article)
    source = tmp_path / "one.xml"
    source.write_bytes(body)
    code, out, err = run("--config", str(config), "parse-feed", str(source))
    assert code == 0 and err == []
    (line,) = out
    assert json.loads(line)["id"] == published.id


def test_parse_feed_without_a_loadable_config_warns_and_goes_on(tmp_path: Path) -> None:
    code, out, err = run("--config", str(tmp_path / "absent.yaml"), "parse-feed",
                         str(FIXTURES / "atom10.xml"))
    assert code == 0 and len(out) == 2
    assert len(err) == 1 and err[0].startswith("warning: config not loaded (")


def test_the_health_table_shows_titles_and_an_error_with_its_time_only_while_failing() -> None:
    from monitor.feeds.commands import health_table
    from monitor.feeds.health import FeedHealth

    failing = FeedHealth("wire", "https://w.example/f", "broken", None, "HTTP 500",
                         "2026-12-05T10:00:00Z", None, 5, None)  # fmt: skip
    recovered = FeedHealth("desk", "https://d.example/f", "ok", "2026-12-05T11:00:00Z",
                           "HTTP 500", "2026-12-04T09:00:00Z", None, 0, None)  # fmt: skip
    _, wire, desk = health_table([failing, recovered], {"wire": "World Wire"})
    assert "World Wire" in wire and wire.endswith("2026-12-05T10:00:00Z HTTP 500")
    assert "HTTP 500" not in desk and desk.endswith("-")
