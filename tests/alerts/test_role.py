"""The alerts and delivery roles together on the embedded bus, with a real receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from monitor.alerts.role import AlertRole, DeliveryRole, alert_roles
from monitor.alerts.settings import ReceiverSettings
from monitor.alerts.signing import verify
from monitor.bus.codec import decode, encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.messages import Alert
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import Receiver, settings_for, tagged_article
from tests.alerts.test_delivery import alerts_from_fixture

SECRET = "test-signing-key"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def make_ctx(tmp_path: Path, receiver: Receiver, bus: MemoryBus) -> RoleContext:
    settings = settings_for(tmp_path, [ReceiverSettings(
        name="hook", url=receiver.url, secret=SecretStr(SECRET)  # type: ignore[arg-type]
    )])
    return RoleContext(settings=settings, bus=bus, metrics=Metrics(), clock=SystemClock())


def test_seed_like_article_raises_signed_alert_with_statement_tags_rule_and_url(
    tmp_path: Path, receiver: Receiver
) -> None:
    bus = MemoryBus()
    ctx = make_ctx(tmp_path, receiver, bus)
    article = tagged_article()
    bus.producer().send(ctx.settings.bus.topics.statements, article.article.id, encode(article))
    roles = alert_roles(ctx)
    assert [r.name for r in roles] == ["alerts", "delivery"]
    for role in roles:
        role.run_once()
    bodies = [json.loads(r.body) for r in receiver.requests]
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
        assert "X-Monitor-Signature" not in request.headers  # the former scheme is opt-in
        assert request.headers["Idempotency-Key"] == json.loads(request.body)["id"]
        assert request.headers["webhook-id"] == json.loads(request.body)["id"]
    assert len(set(receiver.accepted_keys())) == len(receiver.requests)
    for role in roles:
        role.close()


def test_restarted_roles_do_not_send_again(tmp_path: Path, receiver: Receiver) -> None:
    bus = MemoryBus()
    ctx = make_ctx(tmp_path, receiver, bus)
    article = tagged_article()
    topic = ctx.settings.bus.topics.statements
    bus.producer().send(topic, article.article.id, encode(article))
    for role in alert_roles(ctx):
        role.run_once()
        role.close()
    first = len(receiver.requests)
    assert first >= 2
    # The same article read again (e.g. a re-published feed item) after a restart.
    bus.producer().send(topic, article.article.id, encode(article))
    alert_role, delivery = AlertRole(ctx), DeliveryRole(ctx)
    alert_role.run_once()
    delivery.run_once()
    assert len(receiver.requests) == first
    stored = delivery.store.recent(10)
    assert {s.alert.rule for s in stored} >= {"election-result-disputed"}
    assert all(s.deliveries == {"hook": "delivered"} for s in stored)
    alerts = [decode(r.value, Alert) for r in bus.records_in(ctx.settings.bus.topics.alerts)]
    assert len({a.id for a in alerts}) == first


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
