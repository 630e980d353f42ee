"""The NLP role on the embedded bus: articles in, tagged articles out."""

from __future__ import annotations

from pathlib import Path

from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.config import Settings
from monitor.messages import Article, Source, TaggedArticle
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
