"""The NLP role on the embedded bus: articles in, tagged articles out."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.config import Settings
from monitor.messages import Article, Source, TaggedArticle
from monitor.nlp.history import StatementHistory
from monitor.nlp.stage import NlpRole
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.nlp.conftest import CONFIG_DIR


def test_the_feed_entry_author_names_a_frame_that_names_nobody(tmp_path: Path) -> None:
    settings = Settings(config_dir=CONFIG_DIR, state_dir=tmp_path / "state")
    bus = MemoryBus()
    role = NlpRole(RoleContext(settings, bus, Metrics(), SystemClock()))
    article = Article(
        id="a1",
        url="https://embassy.example/statement",
        title="Press Statement",
        text="The United States condemns the sham referendum held in the occupied region.",
        text_source="content",
        feed_id="embassy",
        sources=(
            Source("embassy", "https://embassy.example/feed.xml", "https://embassy.example/s"),
        ),
        fetched_at="2026-12-05T10:00:00Z",
        author="Jane Doe",
    )
    consumer = bus.consumer([settings.bus.topics.statements], "test")
    bus.producer().send(settings.bus.topics.articles, article.id, encode(article))
    assert role.run_once() == 1
    (record,) = consumer.poll(1.0)
    tagged = decode(record.value, TaggedArticle)
    assert [s.speaker for s in tagged.statements] == [None, "Jane Doe"]
    role.close()


def test_a_batch_s_tagged_articles_reach_the_statement_history_when_it_settles(
    tmp_path: Path,
) -> None:
    settings = Settings(config_dir=CONFIG_DIR, state_dir=tmp_path / "state")
    bus = MemoryBus()
    role = NlpRole(RoleContext(settings, bus, Metrics(), SystemClock()))
    said = "The minister said the election was rigged by foreign agents."
    articles = [_article(n, f"Report {n}", said) for n in range(3)]
    producer = bus.producer()
    for article in articles:
        producer.send(settings.bus.topics.articles, article.id, encode(article))
    history = StatementHistory.in_dir(settings.state_dir, readonly=True)
    assert role.run_once() == 3
    assert sorted(a.article.id for _, a in history.articles()) == ["a0", "a1", "a2"]
    history.close()
    role.close()


def _article(number: int, title: str, text: str, feed: str = "wire") -> Article:
    url = f"https://news.example/{number}"
    return Article(
        id=f"a{number}",
        url=url,
        title=title,
        text=text,
        text_source="content",
        feed_id=feed,
        sources=(Source(feed, "https://news.example/feed.xml", url),),
        fetched_at="2026-12-05T10:00:00Z",
    )


def test_articles_are_counted_by_language_and_an_untagged_one_is_said_once_per_feed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(config_dir=CONFIG_DIR, state_dir=tmp_path / "state")
    bus = MemoryBus()
    metrics = Metrics()
    role = NlpRole(RoleContext(settings, bus, metrics, SystemClock()))
    french = "Le gouvernement a dénoncé une ingérence étrangère dans les élections de mai."
    articles = [
        _article(1, "Elecciones", "La oposición denunció fraude en las elecciones, dijo el "
                 "portavoz del partido."),
        _article(2, "Ingérence", french),
        _article(3, "Ingérence encore", french),
    ]  # fmt: skip
    consumer = bus.consumer([settings.bus.topics.statements], "test")
    for article in articles:
        bus.producer().send(settings.bus.topics.articles, article.id, encode(article))
    with caplog.at_level("WARNING", logger="monitor.nlp"):
        assert role.run_once() == 3
    tagged = [decode(r.value, TaggedArticle) for r in consumer.poll(1.0)]
    assert tagged[0].statements[1].tags == ("election",)
    assert [t.article.language for t in tagged] == ["es", "fr", "fr"]  # travels to the alerts
    assert all(not s.tags for t in tagged[1:] for s in t.statements)
    count = metrics.nlp_articles.labels
    assert count("es")._value.get() == 1 and count("other")._value.get() == 2
    untagged = [r for r in caplog.records if "not tagged" in r.getMessage()]
    assert len(untagged) == 1 and "feed wire" in untagged[0].getMessage()
    role.close()
