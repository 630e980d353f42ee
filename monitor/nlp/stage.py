"""The NLP role: a thin bus shell around :class:`~monitor.nlp.multilingual.MultilingualTagger`.

Reads :class:`~monitor.messages.Article` records, tags the headline and body,
and publishes one :class:`~monitor.messages.TaggedArticle` per article, keyed
by article id. Processes of this role share the articles topic through one
consumer group, which is how NLP scales across cores and machines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from monitor.bus.worker import Outgoing, StageWorker
from monitor.config import Settings
from monitor.messages import Article, ArticleRef, TaggedArticle
from monitor.nlp.multilingual import MultilingualTagger
from monitor.roles import RoleContext


class NlpRole:
    """Tags articles into statements."""

    name = "nlp"

    def __init__(self, ctx: RoleContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        self._tagger = MultilingualTagger.from_settings(settings.nlp, settings.config_dir)
        self._worker = StageWorker(
            stage=self.name,
            consumer=ctx.bus.consumer([settings.bus.topics.articles], settings.bus.groups.nlp),
            producer=ctx.bus.producer(),
            kind=Article,
            handle=self._handle,
            deadletter_topic=settings.bus.topics.deadletter,
            metrics=ctx.metrics,
            clock=ctx.clock,
        )
        self._statements_topic = settings.bus.topics.statements

    def _handle(self, article: Article) -> Iterator[Outgoing]:
        started = time.perf_counter()
        result = self._tagger.tag(article.document, article.author, article.language)
        self._ctx.metrics.nlp_seconds.observe(time.perf_counter() - started)
        for statement in result.statements:
            for tag in statement.tags or ("none",):
                self._ctx.metrics.statements.labels(tag).inc()
        ref = ArticleRef(
            id=article.id,
            url=article.url,
            title=article.title,
            feed_id=article.feed_id,
            sources=article.sources,
            published=article.published,
            fetched_at=article.fetched_at,
        )
        tagged = TaggedArticle(
            article=ref,
            document=article.document,
            statements=result.statements,
            entities=result.entities,
            boilerplate=result.boilerplate,
        )
        yield Outgoing(self._statements_topic, article.id, tagged)

    def run_once(self) -> int:
        return self._worker.drain()

    def run(self, stop: threading.Event) -> None:
        self._worker.run(stop)

    def reload(self, settings: Settings) -> None:
        """Re-read lexicons; the next article is tagged with the new ones."""
        self._tagger = MultilingualTagger.from_settings(settings.nlp, settings.config_dir)

    def close(self) -> None:
        self._worker.close()
