from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.feeds.settings import DEFAULT_TRACKING_PARAMS
from monitor.feeds.urls import article_id_from, canonical_url, is_web_url


def canon(url: str) -> str:
    return canonical_url(url, DEFAULT_TRACKING_PARAMS)


def test_tracking_parameters_fragment_and_host_spelling_are_removed() -> None:
    assert canon("HTTPS://WWW.Example.ORG:443/a/b?utm_source=x&id=3&fbclid=y#frag") == (
        "https://example.org/a/b?id=3"
    )


def test_query_is_sorted_and_nondefault_port_kept() -> None:
    assert canon("http://example.org:8080/p?b=2&a=1") == "http://example.org:8080/p?a=1&b=2"


def test_empty_path_becomes_slash_and_idn_host_is_punycoded() -> None:
    assert canon("http://bücher.example") == "http://xn--bcher-kva.example/"


def test_same_story_from_two_feeds_has_one_id() -> None:
    one = article_id_from(guid=None, link="https://www.ex.org/s?utm_medium=rss", feed_id="a",
                          tracking_params=DEFAULT_TRACKING_PARAMS)
    two = article_id_from(guid="https://ex.org/s#comments", link=None, feed_id="b",
                          tracking_params=DEFAULT_TRACKING_PARAMS)
    assert one == two and len(one) == 32


def test_non_url_guid_is_scoped_to_its_feed() -> None:
    a = article_id_from(guid="item-1", link=None, feed_id="a")
    b = article_id_from(guid="item-1", link=None, feed_id="b")
    assert a != b
    assert a == article_id_from(guid="item-1", link=None, feed_id="a")


def test_url_guid_wins_over_link_and_title_is_the_last_resort() -> None:
    by_guid = article_id_from(guid="https://ex.org/1", link="https://ex.org/other", feed_id="a")
    assert by_guid == article_id_from(guid=None, link="https://ex.org/1", feed_id="z")
    assert article_id_from(guid=None, link=None, feed_id="a", title="T") != article_id_from(
        guid=None, link=None, feed_id="a", title="U"
    )


def test_is_web_url() -> None:
    assert is_web_url("https://ex.org/x")
    assert not is_web_url("urn:uuid:1234")
    assert not is_web_url("ftp://ex.org/")
    assert not is_web_url("http://[broken")


@settings(max_examples=300, deadline=None)
@given(
    host=st.from_regex(r"(www\.)?[a-z][a-z0-9-]{0,10}\.(org|com|example)", fullmatch=True),
    path=st.from_regex(r"(/[A-Za-z0-9._~-]{0,8}){0,3}", fullmatch=True),
    params=st.lists(st.tuples(st.sampled_from(["id", "p", "utm_source", "fbclid", "q"]),
                              st.text("abc123", max_size=4)), max_size=4),
    fragment=st.text("xyz", max_size=3),
)
def test_canonical_form_is_stable_and_tracking_free(
    host: str, path: str, params: list[tuple[str, str]], fragment: str
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = f"https://{host.upper()}{path}?{query}#{fragment}"
    once = canon(url)
    assert canon(once) == once
    assert "utm_source" not in once and "fbclid" not in once and "#" not in once
    assert not urlsplit(once).hostname.startswith("www.")  # type: ignore[union-attr]
