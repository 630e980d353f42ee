"""One statement through five feeds, worded slightly differently: one alert, five sources.

These run the per-statement option (``alerts.notify: statement``); the story
notifications the same copies give are in test_story_notifications.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.alerts.role import DeliveryRole
from monitor.alerts.settings import ReceiverSettings
from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.messages import Alert, Source
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import Receiver, Sink, settings_for, tagged_article

#: How five outlets ran the same wire copy: punctuation, a word added or dropped.
EDITS = [
    lambda t: t,
    lambda t: t.replace("on Tuesday", "on Tuesday,"),
    lambda t: t.replace("The Kremlin said", "Russia's Kremlin said"),
    lambda t: t.replace(" and stop contesting the count", "").replace("defeat", "defeat,"),
    lambda t: t.replace("Venezuelan", "Venezuela's").rstrip(".") + " - agencies.",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def test_five_feeds_give_one_alert_with_five_sources(tmp_path: Path, receiver: Receiver) -> None:
    settings = settings_for(tmp_path, [ReceiverSettings(name="hook", url=receiver.url)],  # type: ignore[arg-type]
                            notify="statement")
    bus = MemoryBus()
    ctx = RoleContext(settings, bus, Metrics(), SystemClock())
    producer = bus.producer()
    for n, edit in enumerate(EDITS):
        copy = tagged_article(article_id=f"outlet-{n}", feed_id=f"feed-{n}",
                              url=f"http://127.0.0.1/outlet-{n}/story", edit=edit)
        producer.send(settings.bus.topics.statements, copy.article.id, encode(copy))
    sink = Sink(ctx)
    sink.run_once()
    sink.close()
    delivery = DeliveryRole(ctx)
    delivery.run_once(idle_s=0.3)

    rule = "election-result-disputed"
    published = [decode(r.value, Alert) for r in bus.records_in(settings.bus.topics.alerts)]
    defeat = [a for a in published if a.rule == rule and "defeat" in a.statement.text]
    assert len({a.id for a in defeat}) == 1  # one story, several revisions of one id
    final = defeat[-1]
    assert sorted(s.feed_id for s in final.sources) == [f"feed-{n}" for n in range(5)]
    assert [len(a.sources) for a in defeat] == [1, 2, 3, 4, 5]

    stored = delivery.store.get(final.id)
    assert stored is not None and len(stored.alert.sources) == 5
    delivery.close()
    bodies = [json.loads(s.body) for s in receiver.requests]
    sent = [b for b in bodies if b["id"] == final.id]
    assert len(sent) == 1  # the receiver hears of the story once...
    assert len(sent[0]["sources"]) == 5  # ...with every outlet that carried it
    assert len(receiver.accepted_keys()) == len(set(receiver.accepted_keys()))


def test_article_published_again_with_a_later_feed_adds_it_to_the_alert(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The poller publishes an article again (same id) when a second feed carries
    it after the first published it: the alert keeps its id, gains the source."""
    settings = settings_for(tmp_path, [ReceiverSettings(name="hook", url=receiver.url)],  # type: ignore[arg-type]
                            notify="statement")
    bus = MemoryBus()
    ctx = RoleContext(settings, bus, Metrics(), SystemClock())
    producer = bus.producer()
    first = tagged_article(article_id="wire-1", feed_id="feed-a",
                           url="http://127.0.0.1/wire/story")
    later = Source(feed_id="feed-b", feed_url="http://127.0.0.1/feeds/feed-b.xml",
                   entry_url="http://127.0.0.1/wire/story?via=b")
    again = dataclasses.replace(first, article=dataclasses.replace(
        first.article, sources=(*first.article.sources, later)))
    sink = Sink(ctx)
    delivery = DeliveryRole(ctx)
    for copy in (first, again):
        producer.send(settings.bus.topics.statements, copy.article.id, encode(copy))
        sink.run_once()
        delivery.run_once(idle_s=0.3)
    sink.close()

    published = [decode(r.value, Alert) for r in bus.records_in(settings.bus.topics.alerts)]
    ids = list(dict.fromkeys(a.id for a in published))
    assert ids  # the fixture raises alerts
    for alert_id in ids:
        revisions = [a for a in published if a.id == alert_id]
        assert [[s.feed_id for s in a.sources] for a in revisions] == [
            ["feed-a"], ["feed-a", "feed-b"]]
        stored = delivery.store.get(alert_id)
        assert stored is not None
        assert [s.feed_id for s in stored.alert.sources] == ["feed-a", "feed-b"]
    delivery.close()
    # Each alert reached the receiver once, before feed-b carried the article.
    bodies = [json.loads(s.body) for s in receiver.requests]
    assert sorted(b["id"] for b in bodies) == sorted(ids)
