"""Messages survive the wire unchanged; bad bytes become one-line decode errors."""

from __future__ import annotations

import pytest

from monitor.bus.codec import MAX_MESSAGE_BYTES, TopicNames, decode, encode
from monitor.errors import DecodeError
from monitor.messages import (
    Alert,
    Article,
    ArticleRef,
    Evidence,
    Match,
    Source,
    Span,
    Statement,
    TaggedArticle,
)

ARTICLE = Article(
    id="a1",
    url="https://news.example/a",
    title="Head",
    text="Body.",
    text_source="content",
    feed_id="f1",
    sources=(Source("f1", "https://news.example/feed"),),
    fetched_at="2024-08-06T09:00:00Z",
)
STATEMENT = Statement(
    text="He warned against interfering.",
    start=5,
    end=35,
    tags=("foreign_interference",),
    speaker="Dmitry Peskov",
    evidence=(Evidence("foreign_interference", "interfering", 23, 34),),
    entities=(Span("Peskov", 0, 6, "PERSON"),),
)


@pytest.mark.parametrize(
    "message",
    [
        ARTICLE,
        TaggedArticle(
            article=ArticleRef("a1", "https://news.example/a", "Head", "f1"),
            document="Head\nBody.",
            statements=(STATEMENT,),
        ),
        Alert(
            id="al1",
            rule="r",
            severity="high",
            statement=STATEMENT,
            article=ArticleRef("a1", "u", "t", "f1"),
            matches=(Match("interfer*", "interfering", 23, 34),),
            created_at="2024-08-06T09:00:00Z",
            labels={"team": "desk"},
        ),
    ],
)
def test_roundtrip(message: Article | TaggedArticle | Alert) -> None:
    # mypy cannot pick one of decode's constrained kinds for a union; each case is one kind.
    assert decode(encode(message), type(message)) == message  # type: ignore[type-var]


def test_schema_version_is_on_the_wire() -> None:
    assert b'"schema":"article/1"' in encode(ARTICLE)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xff\xfe\x00junk", "Invalid JSON"),
        (b"[]", "not a valid Article"),
        (encode(ARTICLE).replace(b"article/1", b"article/9"), "schema"),
        (b'{"id": 1}', "not a valid Article"),
    ],
)
def test_bad_input_is_a_one_line_decode_error(raw: bytes, expected: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(raw, Article)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_oversized_message_is_rejected_before_parsing() -> None:
    with pytest.raises(DecodeError, match="exceeds"):
        decode(b" " * (MAX_MESSAGE_BYTES + 1), Article)


def test_topic_names_default_and_list_all() -> None:
    names = TopicNames()
    assert names.articles == "monitor.articles"
    assert "monitor.deadletter" in names.all()
