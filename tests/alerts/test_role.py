"""The alerts and delivery roles together on the embedded bus, with a real receiver."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from monitor.alerts.deliverable import decode_deliverable, rules_of
from monitor.alerts.grouping import highest
from monitor.alerts.role import DeliveryRole, alert_roles
from monitor.alerts.settings import DedupSettings, ReceiverSettings
from monitor.alerts.signing import verify
from monitor.alerts.state import StoryState
from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.messages import EmissionsEntry, StoryEntry
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import Receiver, Sink, settings_for, tagged_article
from tests.alerts.test_delivery import alerts_from_fixture

SECRET = "test-signing-key"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def make_ctx(tmp_path: Path, receiver: Receiver, bus: MemoryBus, **alerts: Any) -> RoleContext:
    settings = settings_for(tmp_path, [ReceiverSettings(
        name="hook", url=receiver.url, secret=SecretStr(SECRET)  # type: ignore[arg-type]
    )], **alerts)
    return RoleContext(settings=settings, bus=bus, metrics=Metrics(), clock=SystemClock())


def test_seed_like_article_raises_one_signed_story_with_every_statement_and_rule(
    tmp_path: Path, receiver: Receiver
) -> None:
    bus = MemoryBus()
    ctx = make_ctx(tmp_path, receiver, bus)
    article = tagged_article()
    bus.producer().send(ctx.settings.bus.topics.statements, article.article.id, encode(article))
    roles = alert_roles(ctx)
    assert [r.name for r in roles] == ["alerts", "stories", "delivery"]
    for role in roles:
        role.run_once()
    assert len(receiver.requests) == 1  # one notification for the story
    story = json.loads(receiver.requests[0].body)
    assert story["schema"] == "story/1" and story["revision"] == 1
    assert story["article"]["url"] == article.article.url
    by_text = {s["statement"]["text"]: s for s in story["statements"]}
    defeat = next(s for t, s in by_text.items() if "accept its defeat" in t)
    assert defeat["statement"]["tags"] == ["election"]
    disputed = next(f for f in defeat["rules"] if f["rule"] == "election-result-disputed")
    assert any(m["text"] == "accept its defeat" for m in disputed["matches"])
    assert "foreign-interference-warning" in story["rules"]
    warning = next(s for s in story["statements"]
                   if any(f["rule"] == "foreign-interference-warning" for f in s["rules"]))
    assert warning["statement"]["speaker"] == "Dmitry Peskov"
    fired = {f["severity"] for s in story["statements"] for f in s["rules"]}
    assert story["severity"] == highest(fired)
    for item in story["statements"]:  # every offset counts from the statement's own text
        text = item["statement"]["text"]
        assert (item["statement"]["start"], item["statement"]["end"]) == (0, len(text))
        for e in item["statement"]["evidence"]:
            assert text[e["start"]:e["end"]] == e["text"]
        for f in item["rules"]:
            for m in f["matches"]:
                assert text[m["start"]:m["end"]] == m["text"]
    request = receiver.requests[0]
    assert verify([SECRET.encode()], request.headers, request.body, now=ctx.clock.now())
    assert "X-Monitor-Signature" not in request.headers  # the former scheme is opt-in
    assert request.headers["Idempotency-Key"] == story["id"]
    assert request.headers["webhook-id"] == f"{story['id']}.r1"  # unique per message
    for role in roles:
        role.close()


def test_per_statement_option_raises_one_signed_alert_per_rule_and_statement(
    tmp_path: Path, receiver: Receiver
) -> None:
    bus = MemoryBus()
    ctx = make_ctx(tmp_path, receiver, bus, notify="statement")
    article = tagged_article()
    bus.producer().send(ctx.settings.bus.topics.statements, article.article.id, encode(article))
    roles = alert_roles(ctx)
    for role in roles:
        role.run_once()
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert {b["schema"] for b in bodies} == {"alert/2"}
    disputes = [b for b in bodies if b["rule"] == "election-result-disputed"
                and "accept its defeat" in b["statement"]["text"]]
    assert len(disputes) == 1
    payload = disputes[0]
    assert payload["statement"]["tags"] == ["election"]
    assert payload["article"]["url"] == article.article.url
    assert any(m["text"] == "accept its defeat" for m in payload["matches"])
    interference = [b for b in bodies if b["rule"] == "foreign-interference-warning"]
    assert interference and interference[0]["statement"]["speaker"] == "Dmitry Peskov"
    for request in receiver.requests:
        assert verify([SECRET.encode()], request.headers, request.body, now=ctx.clock.now())
        assert request.headers["Idempotency-Key"] == json.loads(request.body)["id"]
    assert len(set(receiver.accepted_keys())) == len(receiver.requests)
    for role in roles:
        role.close()


@pytest.mark.parametrize("notify", ["story", "statement"])
def test_restarted_roles_do_not_send_again(
    tmp_path: Path, receiver: Receiver, notify: str
) -> None:
    bus = MemoryBus()
    ctx = make_ctx(tmp_path, receiver, bus, notify=notify)
    article = tagged_article()
    topic = ctx.settings.bus.topics.statements
    bus.producer().send(topic, article.article.id, encode(article))
    for role in alert_roles(ctx):
        role.run_once()
        role.close()
    first = len(receiver.requests)
    assert first == 1 if notify == "story" else first >= 2
    # The same article read again (e.g. a re-published feed item) after a restart.
    bus.producer().send(topic, article.article.id, encode(article))
    alert_role, delivery = Sink(ctx), DeliveryRole(ctx)
    alert_role.run_once()
    delivery.run_once()
    assert len(receiver.requests) == first
    stored = delivery.store.recent(10)
    assert any("election-result-disputed" in rules_of(s.alert) for s in stored)
    assert all(s.deliveries == {"hook": "delivered"} for s in stored)
    published = [decode_deliverable(r.value)
                 for r in bus.records_in(ctx.settings.bus.topics.alerts)]
    assert len({a.id for a in published}) == first


def test_delivery_reload_adopts_new_receivers(tmp_path: Path, receiver: Receiver) -> None:
    second = Receiver().start()
    try:
        bus = MemoryBus()
        ctx = make_ctx(tmp_path, receiver, bus)
        topic = ctx.settings.bus.topics.alerts
        alerts = alerts_from_fixture(2)
        delivery = DeliveryRole(ctx)
        bus.producer().send(topic, alerts[0].id, encode(alerts[0]))
        delivery.run_once(idle_s=0.2)
        added = ReceiverSettings(name="second", url=second.url)  # type: ignore[arg-type]
        more = (*ctx.settings.alerts.receivers, added)
        delivery.reload(ctx.settings.model_copy(update={
            "alerts": ctx.settings.alerts.model_copy(update={"receivers": more})}))
        bus.producer().send(topic, alerts[1].id, encode(alerts[1]))
        delivery.run_once(idle_s=0.2)
        delivery.close()
        assert receiver.accepted_keys() == [alerts[0].id, alerts[1].id]
        assert second.accepted_keys() == [alerts[1].id]
    finally:
        second.stop()


def _stories_published(bus: MemoryBus, topic: str) -> list[tuple[str, int]]:
    published = [decode_deliverable(r.value) for r in bus.records_in(topic)]
    return [(p.id, getattr(p, "revision", 1)) for p in published]


def test_a_sink_on_another_machine_takes_the_stories_over_from_the_changelog(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The sink that decided an article leaves; another, with an empty state folder of
    its own, is given the partition, rebuilds the stories and merges a later copy of
    the article into the same story instead of raising it again."""
    bus = MemoryBus()
    first = make_ctx(tmp_path / "machine-a", receiver, bus)
    topics = first.settings.bus.topics
    original = tagged_article()
    bus.producer().send(topics.statements, original.article.id, encode(original))
    sink = Sink(first)
    sink.run_once()
    sink.close()
    [(story, revision)] = _stories_published(bus, topics.alerts)
    assert revision == 1

    second = make_ctx(tmp_path / "machine-b", receiver, bus)
    copy = tagged_article(article_id="copy-1", feed_id="copydesk",
                          url="http://127.0.0.1/copydesk/story")
    bus.producer().send(topics.statements, copy.article.id, encode(copy))
    taker = Sink(second)
    taker.run_once()
    taker.close()
    assert _stories_published(bus, topics.alerts) == [(story, 1), (story, 2)]
    assert second.metrics.state_restores.labels("stories")._value.get() == 1


def _numbered(n: int) -> Callable[[str], str]:
    """Makes each statement of article ``n`` its own (ends it with "(report n).")."""
    return lambda text: f"{text[:-1]} (report {n})."


def test_a_batch_journals_the_last_change_of_each_state_entry_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Three articles of distinct stories for the same rules in one batch: each story
    has its own changelog record, but a rule's recent emissions, changed by each of
    its stories, is written once, holding them all; a new state restores it all."""
    bus = MemoryBus()
    ctx = make_ctx(tmp_path, receiver, bus, dedup=DedupSettings(similarity=100))
    topics = ctx.settings.bus.topics
    for n in range(3):
        article = tagged_article(article_id=f"art-{n}", edit=_numbered(n))
        bus.producer().send(topics.statements, article.article.id, encode(article))
    sink = Sink(ctx)
    sink.run_once()
    sink.close()
    journal = [(r.key or "", r.value) for r in bus.read_partition(topics.alerts_state, 0, 5.0)]
    emissions = [key for key, _ in journal if key.startswith("emissions:")]
    stories = [key for key, _ in journal if key.startswith("story:")]
    assert len(_stories_published(bus, topics.alerts)) == 3
    assert len(emissions) == len(set(emissions)) >= 1
    assert len(stories) == len(set(stories)) >= 3
    stories_by_rule = Counter(decode(value, StoryEntry).alert.rule
                              for key, value in journal if key.startswith("story:"))
    for key, value in journal:
        if key.startswith("emissions:"):
            entry = decode(value, EmissionsEntry)
            assert len(entry.times) == stories_by_rule[entry.rule]

    taker = StoryState()
    taker.restore(bus.read_partition(topics.alerts_state, 0, 5.0))
    assert len(taker) == len(journal)


def test_the_embedded_bus_keeps_the_story_state_across_a_restart(
    tmp_path: Path, receiver: Receiver
) -> None:
    data = tmp_path / "state"
    bus = MemoryBus(data_dir=data)
    ctx = make_ctx(tmp_path, receiver, bus)
    topics = ctx.settings.bus.topics
    original = tagged_article()
    bus.producer().send(topics.statements, original.article.id, encode(original))
    sink = Sink(ctx)
    sink.run_once()
    sink.close()
    [(story, _)] = _stories_published(bus, topics.alerts)
    bus.close()

    restarted = MemoryBus(data_dir=data)
    ctx = make_ctx(tmp_path, receiver, restarted)
    copy = tagged_article(article_id="copy-1", feed_id="copydesk",
                          url="http://127.0.0.1/copydesk/story")
    restarted.producer().send(topics.statements, copy.article.id, encode(copy))
    sink = Sink(ctx)
    sink.run_once()
    sink.close()
    assert _stories_published(restarted, topics.alerts) == [(story, 2)]
    restarted.close()


def test_delivery_on_another_machine_knows_what_the_first_one_delivered(
    tmp_path: Path, receiver: Receiver
) -> None:
    """An alert read again after its partition moved (its first owner delivered it,
    then died before committing) is not sent again by the new owner, whose own
    history is empty: the delivery changelog says the receiver has it."""
    bus = MemoryBus()
    first = make_ctx(tmp_path / "machine-a", receiver, bus)
    topic = first.settings.bus.topics.alerts
    alert = alerts_from_fixture(1)[0]
    bus.producer().send(topic, alert.id, encode(alert))
    delivery = DeliveryRole(first)
    delivery.run_once(idle_s=0.2)
    delivery.close()
    assert receiver.accepted_keys() == [alert.id]

    bus.producer().send(topic, alert.id, encode(alert))  # read again by the next owner
    second = make_ctx(tmp_path / "machine-b", receiver, bus)
    taker = DeliveryRole(second)
    taker.run_once(idle_s=0.2)
    taker.close()
    assert receiver.accepted_keys() == [alert.id]
    assert second.metrics.state_restores.labels("delivery")._value.get() == 1
    skipped = second.metrics.deliveries.labels("hook", "already_done")._value.get()
    assert skipped == 1


def test_every_candidates_record_goes_to_the_story_partition_whatever_the_partitions(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The story decisions read one partition, the first (see monitor.bus.assignor):
    rule matching writes every article's candidates there, whatever their key hashes to."""
    bus = MemoryBus(partitions=4)
    ctx = make_ctx(tmp_path, receiver, bus)
    topics = ctx.settings.bus.topics
    for n in range(3):
        article = tagged_article(article_id=f"a{n}")
        bus.producer().send(topics.statements, article.article.id, encode(article))
    matching = alert_roles(ctx)[0]
    assert matching.run_once() == 3
    assert len(bus.read_partition(topics.alerts_candidates, 0, 0.1)) == 3
    assert all(not bus.read_partition(topics.alerts_candidates, p, 0.1) for p in (1, 2, 3))
