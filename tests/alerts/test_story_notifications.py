"""Stories through the sink and delivery roles on the embedded bus, to a real receiver:
syndicated copies join one notification, something new revises it, nothing new
sends nothing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.alerts.deliverable import decode_deliverable
from monitor.alerts.role import DeliveryRole
from monitor.alerts.settings import ReceiverSettings
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.messages import Source, StoryNotification, TaggedArticle
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import Receiver, Sink, settings_for, tagged_article
from tests.alerts.test_syndication import EDITS


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def context(tmp_path: Path, receiver: Receiver, interval_s: float = 300.0) -> RoleContext:
    settings = settings_for(
        tmp_path,
        [ReceiverSettings(name="hook", url=receiver.url)],  # type: ignore[arg-type]
        group_interval_s=interval_s,
    )
    return RoleContext(settings, MemoryBus(), Metrics(), SystemClock())


def published(ctx: RoleContext) -> list[StoryNotification]:
    bus = ctx.bus
    assert isinstance(bus, MemoryBus)
    items = [decode_deliverable(r.value) for r in bus.records_in(ctx.settings.bus.topics.alerts)]
    assert all(isinstance(i, StoryNotification) for i in items)
    return [i for i in items if isinstance(i, StoryNotification)]


def run(ctx: RoleContext, *articles: TaggedArticle) -> None:
    producer = ctx.bus.producer()
    for article in articles:
        producer.send(ctx.settings.bus.topics.statements, article.article.id, encode(article))
    sink, delivery = Sink(ctx), DeliveryRole(ctx)
    sink.run_once()
    delivery.run_once(idle_s=0.3)
    sink.close()
    delivery.close()


def test_five_outlets_give_one_story_sent_once_with_five_sources(
    tmp_path: Path, receiver: Receiver
) -> None:
    ctx = context(tmp_path, receiver)
    copies = [
        tagged_article(
            article_id=f"outlet-{n}",
            feed_id=f"feed-{n}",
            url=f"http://127.0.0.1/outlet-{n}/story",
            edit=edit,
        )
        for n, edit in enumerate(EDITS)
    ]
    run(ctx, *copies)
    stories = published(ctx)
    assert len({s.id for s in stories}) == 1  # one story, revised as copies came in
    assert [s.revision for s in stories] == list(range(1, len(stories) + 1))
    assert len(stories[-1].sources) == 5
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert len(bodies) == 1  # the backlog was read at once: only the newest revision went
    assert bodies[0]["revision"] == stories[-1].revision
    assert sorted(s["feed_id"] for s in bodies[0]["sources"]) == [f"feed-{n}" for n in range(5)]


def test_a_new_source_later_is_a_revision_and_the_same_article_again_is_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    ctx = context(tmp_path, receiver, interval_s=0.0)
    first = tagged_article(article_id="wire-1", feed_id="feed-a", url="http://127.0.0.1/w")
    run(ctx, first)
    run(ctx, first)  # read again: nothing new, nothing sent
    assert [json.loads(r.body)["revision"] for r in receiver.requests] == [1]
    later = Source("feed-b", "http://127.0.0.1/feeds/b.xml", "http://127.0.0.1/w?via=b")
    again = dataclasses.replace(
        first, article=dataclasses.replace(first.article, sources=(*first.article.sources, later))
    )
    run(ctx, again)
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["revision"] for b in bodies] == [1, 2]
    assert bodies[0]["id"] == bodies[1]["id"]
    assert [s["feed_id"] for s in bodies[1]["sources"]] == ["feed-a", "feed-b"]
    assert bodies[1]["statements"] == bodies[0]["statements"]


def stories_counted(ctx: RoleContext) -> dict[str, float]:
    registry = ctx.metrics.registry
    return {outcome: registry.get_sample_value("monitor_alert_stories_total",
                                               {"outcome": outcome}) or 0.0
            for outcome in ("new", "revision", "unchanged")}


def test_the_grouping_outcome_of_each_article_is_counted(
    tmp_path: Path, receiver: Receiver
) -> None:
    ctx = context(tmp_path, receiver, interval_s=0.0)
    first = tagged_article(article_id="wire-1", feed_id="feed-a", url="http://127.0.0.1/w")
    run(ctx, first)
    assert stories_counted(ctx) == {"new": 1, "revision": 0, "unchanged": 0}
    run(ctx, first)  # read again: nothing new
    assert stories_counted(ctx) == {"new": 1, "revision": 0, "unchanged": 1}
    copy = tagged_article(article_id="wire-2", feed_id="feed-b", url="http://127.0.0.1/b")
    run(ctx, copy)  # a syndicated copy: a new source revises the story
    assert stories_counted(ctx) == {"new": 1, "revision": 1, "unchanged": 1}
    assert [json.loads(r.body)["revision"] for r in receiver.requests] == [1, 2]
