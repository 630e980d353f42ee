"""The NLP role: a thin bus shell around :class:`~monitor.nlp.multilingual.MultilingualTagger`.

Reads :class:`~monitor.messages.Article` records, tags the headline and body,
and publishes one :class:`~monitor.messages.TaggedArticle` per article, keyed
by article id. Processes of this role share the articles topic through one
consumer group, which is how NLP scales across cores and machines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from monitor.bus.worker import Outgoing, StageWorker
from monitor.config import Settings
from monitor.messages import Article, ArticleRef, TaggedArticle
from monitor.nlp.history import HistoryRecorder
from monitor.nlp.multilingual import MultilingualTagger
from monitor.roles import RoleContext

log = logging.getLogger("monitor.nlp")


class NlpRole:
    """Tags articles into statements."""

    name = "nlp"

    def __init__(self, ctx: RoleContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        self._tagger = MultilingualTagger.from_settings(settings.nlp, settings.config_dir)
        #: The local statement history `monitor rules backtest` reads (nlp.history),
        #: written once per batch, when the batch settles.
        self._history = HistoryRecorder(settings.nlp.history, settings.state_dir, ctx.clock)
        self._worker = StageWorker(
            stage=self.name,
            consumer=ctx.bus.consumer([settings.bus.topics.articles], settings.bus.groups.nlp),
            producer=ctx.bus.producer(),
            kind=Article,
            handle=self._handle,
            deadletter_topic=settings.bus.topics.deadletter,
            metrics=ctx.metrics,
            clock=ctx.clock,
            stall_after_s=settings.bus.stage_stall_after_s,
            settle=lambda _: self._history.flush(),
            rewound=self._history.discard,
        )
        self._statements_topic = settings.bus.topics.statements
        #: Feeds already reported for sending articles in a language not tagged.
        self._untagged_feeds: set[str] = set()

    def _handle(self, article: Article) -> Iterator[Outgoing]:
        started = time.perf_counter()
        result = self._tagger.tag(article.document, article.author, article.language)
        self._ctx.metrics.nlp_seconds.observe(time.perf_counter() - started)
        self._count_language(article, result.language)
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
            language=result.language,
        )
        tagged = TaggedArticle(
            article=ref,
            document=article.document,
            statements=result.statements,
            entities=result.entities,
            boilerplate=result.boilerplate,
        )
        self._history.record(tagged)
        yield Outgoing(self._statements_topic, article.id, tagged)

    def _count_language(self, article: Article, language: str | None) -> None:
        """Count the article by language ("other" for one not tagged: bounded
        labels) and say once per feed that it sends articles nobody tags."""
        tagged = language in self._tagger.languages
        self._ctx.metrics.nlp_articles.labels(language if tagged else "other").inc()
        if not tagged and article.feed_id not in self._untagged_feeds:
            self._untagged_feeds.add(article.feed_id)
            log.warning(
                "feed %s: article %s is in %s, which is not tagged (only %s are); "
                "its statements carry no tags",
                article.feed_id,
                article.id,
                language,
                ", ".join(self._tagger.languages),
            )

    def run_once(self) -> int:
        return self._worker.drain()

    def run(self, stop: threading.Event) -> None:
        self._worker.run(stop)

    def reload(self, settings: Settings) -> None:
        """Re-read lexicons; the next article is tagged with the new ones. The
        statement history's new retention applies from its next record."""
        self._tagger = MultilingualTagger.from_settings(settings.nlp, settings.config_dir)
        self._history.adopt(settings.nlp.history)

    def close(self) -> None:
        self._worker.close()
        self._history.close()
