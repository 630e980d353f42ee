"""Article text from HTML content and from real pages, with site rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.bus.codec import decode
from monitor.bus.memory import MemoryBus
from monitor.feeds.fulltext import extract_page_text, html_to_text
from monitor.feeds.sites import SiteRules, load_site_rules
from monitor.messages import Article
from tests.feeds.builders import FIXTURES, settings_for
from tests.feeds.helpers import Poller
from tests.feeds.httpserver import FeedServer, Reply

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = "<p>One &amp; two</p><script>evil()</script><ul><li>a</li><li>b</li></ul>x<br>y"
    assert html_to_text(html) == "One & two\na\nb\nx\ny"
    assert html_to_text("plain &lt;text&gt;") == "plain <text>"


def test_page_extraction_keeps_the_body_and_drops_navigation() -> None:
    text = extract_page_text((FIXTURES / "story.html").read_bytes(), "https://wire.example/s")
    assert "Dockworkers at the northern harbour" in text
    assert "Home" not in text and "Copyright" not in text


def test_site_rules_cut_the_appeal_and_drop_paragraphs(tmp_path: Path) -> None:
    (tmp_path / "sites.yaml").write_text(
        "defaults:\n  drop_paragraphs: ['^Advertisement']\n"
        "sites:\n  - hosts: [wire.example]\n    cut_from: ['^A Word From Our Newsroom']\n"
    )
    rules = load_site_rules(tmp_path / "sites.yaml")
    text = "Story.\nAdvertisement: kettles\nMore story.\nA Word From Our Newsroom:\nGive."
    assert rules.clean("https://www.wire.example/x", text) == "Story.\nMore story."
    assert rules.clean("https://other.example/x", text) == (
        "Story.\nMore story.\nA Word From Our Newsroom:\nGive."
    )


def test_shipped_site_rules_load() -> None:
    rules = load_site_rules(REPO_CONFIG / "sites.yaml")
    assert isinstance(rules, SiteRules) and rules.sites


def test_invalid_site_rules_name_file_and_key(tmp_path: Path) -> None:
    from monitor.errors import ConfigError

    (tmp_path / "sites.yaml").write_text("sites:\n  - hosts: [a.example]\n    cut_from: ['(']\n")
    with pytest.raises(ConfigError) as caught:
        load_site_rules(tmp_path / "sites.yaml")
    assert "sites.yaml: sites.0.cut_from" in str(caught.value)


def test_summary_only_entry_gets_the_page_text_without_the_appeal(
    server: FeedServer, tmp_path: Path
) -> None:
    feed = (FIXTURES / "page-summary-only.xml").read_text().replace("{{BASE}}", server.base)
    server.routes["/feed"] = Reply(200, feed.encode(), {"Content-Type": "application/rss+xml"})
    server.routes["/story.html"] = Reply(
        200, (FIXTURES / "story.html").read_bytes(), {"Content-Type": "text/html"}
    )
    (tmp_path / "sites.yaml").write_text(
        "sites:\n  - hosts: ['127.0.0.1']\n    cut_from: ['^A Word From Our Newsroom']\n"
    )
    settings = settings_for(tmp_path, {"wire": server.url("/feed")})
    bus = MemoryBus()
    role = Poller(settings, bus)
    assert role.run_once() == 1
    state = role.feed_states["wire"]
    role.close()
    (record,) = bus.records_in(settings.bus.topics.articles)
    article = decode(record.value, Article)
    assert article.text_source == "page"
    assert article.text.startswith("Dockworkers at the northern harbour")
    assert "monthly gift" not in article.text and "Newsroom" not in article.text
    assert state.hint_s == 45 * 60


def test_html_to_text_survives_soup_lxml_asserts_on() -> None:
    # lxml raises AssertionError("too many bodies") on this fragment.
    soup = "<rss><rss></rss><rss><!DOCTYPE x [<body>one</body></rss><body>two</body></rss>"
    text = html_to_text(soup)
    assert "one" in text and "two" in text
