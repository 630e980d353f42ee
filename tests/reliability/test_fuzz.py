"""Property-based fuzzing of every entry point that reads outside input.

Each property: whatever the input, the function returns a value of its
contract or raises the project's own error (a MonitorError with a one-line
message) — never another exception, never a hang. Example counts are
bounded (``MONITOR_FUZZ_EXAMPLES``, default 150 per property) so the whole
file runs in well under a minute; pytest-timeout bounds each property.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.alerts.rules import parse_rules
from monitor.config import load_settings
from monitor.errors import ConfigError, MonitorError
from monitor.feeds.fulltext import extract_page_text, html_to_text
from monitor.feeds.parsing import parse_feed
from monitor.nlp.settings import NlpSettings
from monitor.nlp.tagger import Tagger
from tests.support import CONFIG_DIR

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

EXAMPLES = int(os.environ.get("MONITOR_FUZZ_EXAMPLES", "150"))
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def one_line(exc: MonitorError) -> None:
    message = str(exc)
    assert message.strip(), f"{type(exc).__name__} without a message"
    if not isinstance(exc, ConfigError):  # ConfigError lists one problem per line
        assert "\n" not in message.strip(), f"multi-line error: {message!r}"


# -- feeds -------------------------------------------------------------------------

_names = st.sampled_from(["rss", "channel", "item", "title", "link", "guid", "feed", "entry",
                          "description", "content:encoded", "pubDate", "updated", "rdf:RDF",
                          "html", "body", "script", "x"])
_texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)


@st.composite
def xmlish(draw: st.DrawFn, depth: int = 0) -> str:
    """Tag soup: nested elements, stray entities, CDATA, truncation."""
    name = draw(_names)
    children = [] if depth > 3 else draw(st.lists(xmlish(depth + 1), max_size=3))
    text = draw(_texts)
    noise = draw(st.sampled_from(["", "&amp;", "&lol;", "&#0;", "&#xFFFF;", "<![CDATA[x]]>",
                                  "<!ENTITY a 'b'>", "<!DOCTYPE x [", "]]>", "<", "&"]))
    attrs = draw(st.sampled_from(["", ' version="2.0"', ' xmlns="http://www.w3.org/2005/Atom"',
                                  ' href="javascript:alert(1)"']))
    return f"<{name}{attrs}>{text}{noise}{''.join(children)}</{name}>"


@st.composite
def feed_bodies(draw: st.DrawFn) -> bytes:
    prolog = draw(st.sampled_from(["", '<?xml version="1.0"?>', '<?xml version="1.0" '
                                   'encoding="utf-16"?>', '<?xml encoding="bogus-9"?>']))
    body = (prolog + draw(xmlish())).encode("utf-8", "surrogatepass")
    cut = draw(st.integers(0, len(body)))
    return draw(st.sampled_from([body, body[:cut], body + draw(st.binary(max_size=30))]))


@BOUNDED
@given(feed_bodies())
def test_parse_feed_on_tag_soup(body: bytes) -> None:
    try:
        parsed = parse_feed(body)
    except MonitorError as exc:
        one_line(exc)
    else:
        assert isinstance(parsed.entries, tuple)


@BOUNDED
@given(st.binary(max_size=2000))
def test_parse_feed_on_arbitrary_bytes(body: bytes) -> None:
    try:
        parse_feed(body)
    except MonitorError as exc:
        one_line(exc)


@BOUNDED
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.sampled_from(["version", "title", "items", "id", "url",
                                                       "content_html", "date_published",
                                                       "authors", "x"]), kids, max_size=5),
                    max_leaves=20))
def test_parse_feed_on_json_shapes(value: Any) -> None:
    import json

    try:
        parse_feed(json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": value}
                              ).encode())
    except MonitorError as exc:
        one_line(exc)


# -- text extraction ---------------------------------------------------------------

@BOUNDED
@given(xmlish())
def test_html_to_text_on_tag_soup(html: str) -> None:
    assert isinstance(html_to_text(html), str)


@BOUNDED
@given(st.binary(max_size=3000) | xmlish().map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_extract_page_text_never_raises(html: bytes) -> None:
    assert isinstance(extract_page_text(html, "https://news.example/a"), str)


# -- tagging -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.from_settings(NlpSettings(lexicon_dir="nlp"), CONFIG_DIR)


_words = st.sampled_from(["election", "Kremlin", "said", "“", "”", '"', "'", "interfere",
                          "Peskov", "he", "vote", "\n", ".", "Moscow", "meddling", "accept",
                          "defeat", "according to", "ballot", "Donate", "foreign agent"])


@BOUNDED
@given(st.lists(_words | st.text(max_size=12), max_size=60).map(" ".join)
       | st.text(max_size=400))
def test_tagger_offsets_stay_inside_the_text(tagger: Tagger, text: str) -> None:
    try:
        result = tagger.tag(text)
    except MonitorError as exc:
        one_line(exc)
        return
    for statement in result.statements:
        assert 0 <= statement.start <= statement.end <= len(text)
        assert text[statement.start:statement.end] == statement.text
        assert set(statement.tags) <= {"election", "foreign_interference"}


# -- rules and config --------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=12)
_rule_keys = st.sampled_from(["name", "severity", "when", "keywords", "regex", "tags", "all",
                              "any", "none", "speakers", "labels", "rate_limit", "enabled",
                              "countries", "feeds", "description", "bogus"])
_rule_trees = st.recursive(
    _scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_rule_keys, kids,
                                                                        max_size=5),
    max_leaves=25)


@BOUNDED
@given(st.dictionaries(st.sampled_from(["version", "rules", "x"]), _rule_trees, max_size=3)
       | _rule_trees)
def test_rule_documents_load_or_fail_with_a_config_error(raw: Any) -> None:
    try:
        parse_rules(raw, "rules.yaml")
    except ConfigError as exc:
        assert all(p.source == "rules.yaml" for p in exc.problems), exc.problems


_settings_keys = st.sampled_from(["roles", "bus", "kind", "kafka", "bootstrap_servers", "poller",
                                  "alerts", "receivers", "ops", "http_port", "state_dir",
                                  "nlp", "topics", "articles", "feeds_file", "x"])
_settings_trees = st.recursive(
    _scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(_settings_keys, kids,
                                                                        max_size=4),
    max_leaves=20)


@settings(max_examples=max(20, EXAMPLES // 3), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(_settings_trees | st.text(max_size=200))
def test_config_files_load_or_fail_with_a_config_error(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "monitor.yaml"
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    path.write_text(text, encoding="utf-8")
    try:
        load_settings(path, environ={})
    except ConfigError as exc:
        assert exc.problems, "a ConfigError must list its problems"
        for problem in exc.problems:
            assert "Traceback" not in problem.message


def test_html_to_text_on_html_with_two_bodies() -> None:
    """Found by the tag-soup property: lxml asserts 'too many bodies' on this fragment."""
    html = "<rss><rss></rss><rss><!DOCTYPE x [<body></body></rss><body></body></rss>"
    assert isinstance(html_to_text(html), str)
