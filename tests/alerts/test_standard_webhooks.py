"""The daemon's signed requests, checked by the ``standardwebhooks`` library itself.

Alerts go through the delivery role (the daemon's webhook notifier, built from
receiver settings as at start-up) to a real HTTP server on loopback; what that
server got is verified with the Standard Webhooks reference library, as a
receiver would, through a key rotation. The verification snippet in
``docs/webhooks.md`` is run on the same requests.
"""

from __future__ import annotations

import base64
import json
import re
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from monitor.alerts.grouping import regroup, story_id
from monitor.alerts.role import DeliveryRole
from monitor.alerts.settings import ReceiverSettings
from monitor.alerts.signing import verify_legacy
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.messages import Alert
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import Receiver, Seen, settings_for
from tests.alerts.test_delivery import alerts_from_fixture

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
OLD = "whsec_" + base64.b64encode(b"old-key-" * 4).decode()
NEW = "whsec_" + base64.b64encode(b"new-key-" * 4).decode()
OTHER = "whsec_" + base64.b64encode(b"not-ours" * 4).decode()


class ShiftedClock:
    """The real clock, shifted by ``offset_s`` on the wall-clock side only."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = offset_s

    def now(self) -> float:
        return time.time() + self.offset_s

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture
def server() -> Iterator[Receiver]:
    made = Receiver().start()
    yield made
    made.stop()


def deliver(tmp_path: Path, server: Receiver, alerts: list[Alert], *,
            clock: ShiftedClock | None = None, **receiver: Any) -> list[Seen]:
    """Run the delivery role once over ``alerts`` to one webhook receiver; the
    requests the server got for them."""
    before = len(server.requests)
    settings = settings_for(tmp_path / f"run{before}", [ReceiverSettings.model_validate(
        {"name": "newsroom", "url": server.url, **receiver})])
    bus = MemoryBus()
    producer = bus.producer()
    for alert in alerts:
        producer.send(settings.bus.topics.alerts, alert.id, encode(alert))
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), clock or ShiftedClock()))
    role.run_once(idle_s=0.3)
    role.close()
    seen = server.requests[before:]
    assert sorted(s.headers["webhook-id"] for s in seen) == sorted(a.id for a in alerts)
    return seen


def library_accepts(secret: str | bytes, seen: Seen) -> bool:
    try:
        payload = Webhook(secret).verify(seen.body, seen.headers)
    except WebhookVerificationError:
        return False
    # webhook-id is unique per message: an alert's id, or a story's id and revision.
    revision = payload.get("revision")
    expected = payload["id"] if revision is None else f"{payload['id']}.r{revision}"
    assert seen.headers["webhook-id"] == expected
    return True


def test_the_library_verifies_every_request_through_a_key_rotation(
    tmp_path: Path, server: Receiver
) -> None:
    first, during, after = (alerts_from_fixture(3)[i:i + 1] for i in range(3))
    # Before: the old key alone.
    for seen in deliver(tmp_path, server, first, secret=OLD):
        assert library_accepts(OLD, seen) and not library_accepts(NEW, seen)
        assert len(seen.headers["webhook-signature"].split(" ")) == 1
    # During the rotation both keys are configured: the new first, the old kept.
    for seen in deliver(tmp_path, server, during, secret=f"{NEW} {OLD}"):
        assert library_accepts(OLD, seen) and library_accepts(NEW, seen)
        assert not library_accepts(OTHER, seen)
        assert len(seen.headers["webhook-signature"].split(" ")) == 2
    # After: the old key is gone and no longer verifies.
    for seen in deliver(tmp_path, server, after, secret=NEW):
        assert library_accepts(NEW, seen) and not library_accepts(OLD, seen)


def test_a_key_file_rotated_in_place_is_read_again_on_reload(
    tmp_path: Path, server: Receiver
) -> None:
    key_file = tmp_path / "newsroom.key"
    key_file.write_text(OLD + "\n")
    settings = settings_for(tmp_path, [ReceiverSettings.model_validate(
        {"name": "newsroom", "url": server.url, "secret_file": str(key_file)})])
    bus = MemoryBus()
    alerts = alerts_from_fixture(2)
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), ShiftedClock()))
    try:
        bus.producer().send(settings.bus.topics.alerts, alerts[0].id, encode(alerts[0]))
        role.run_once(idle_s=0.3)
        key_file.write_text(f"{NEW}\n{OLD}\n")  # the new key first, the old kept
        role.reload(settings)  # what SIGHUP does, with the same settings
        bus.producer().send(settings.bus.topics.alerts, alerts[1].id, encode(alerts[1]))
        role.run_once(idle_s=0.3)
    finally:
        role.close()
    first, second = server.requests
    assert library_accepts(OLD, first) and not library_accepts(NEW, first)
    assert library_accepts(OLD, second) and library_accepts(NEW, second)


def test_the_library_refuses_a_tampered_body_a_wrong_key_and_a_stale_timestamp(
    tmp_path: Path, server: Receiver
) -> None:
    alerts = alerts_from_fixture(2)
    [fresh] = deliver(tmp_path, server, alerts[:1], secret=NEW)
    assert library_accepts(NEW, fresh)
    tampered = fresh.body.replace(b'"severity":"', b'"severity":"x')
    assert tampered != fresh.body
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(NEW).verify(tampered, fresh.headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(OTHER).verify(fresh.body, fresh.headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(NEW).verify(fresh.body, {**fresh.headers, "webhook-id": "another-id"})
    # Signed ten minutes ago (the daemon's clock says so): refused as too old,
    # however valid the signature.
    [stale] = deliver(tmp_path, server, alerts[1:], clock=ShiftedClock(-600), secret=NEW)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(NEW).verify(stale.body, stale.headers)


def test_a_plain_secret_is_its_utf8_bytes_for_the_library(
    tmp_path: Path, server: Receiver
) -> None:
    plain = "change me, plain and simple"
    [seen] = deliver(tmp_path, server, alerts_from_fixture(1), secret=plain)
    assert library_accepts(plain.encode("utf-8"), seen)
    assert library_accepts("whsec_" + base64.b64encode(plain.encode()).decode(), seen)
    assert "X-Monitor-Signature" not in seen.headers


def test_the_former_headers_only_when_asked_for(tmp_path: Path, server: Receiver) -> None:
    [seen] = deliver(tmp_path, server, alerts_from_fixture(1), secret=f"{NEW} {OLD}",
                     legacy_signature_headers=True)
    assert library_accepts(NEW, seen) and library_accepts(OLD, seen)
    key = base64.b64decode(NEW.removeprefix("whsec_"))  # the first key signs them
    assert verify_legacy(key, seen.headers["X-Monitor-Timestamp"],
                         seen.headers["X-Monitor-Signature"], seen.body, time.time())
    assert seen.headers["X-Monitor-Timestamp"] == seen.headers["webhook-timestamp"]


def documented_verifier() -> Callable[[str, dict[str, str], bytes], Any]:
    """The Python block under 'Verifying a request' in docs/webhooks.md, executed."""
    section = DOCS.read_text(encoding="utf-8").split("## Verifying a request", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "docs/webhooks.md has no python block under 'Verifying a request'"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOCS), "exec"), namespace)
    functions = [v for k, v in namespace.items()
                 if isinstance(v, types.FunctionType) and k.startswith("verify")]
    assert len(functions) == 1, "expected one verify… function in the snippet"
    return functions[0]


def test_the_docs_snippet_verifies_real_requests_and_refuses_bad_ones(
    tmp_path: Path, server: Receiver
) -> None:
    verify = documented_verifier()
    alerts = alerts_from_fixture(2)
    [seen] = deliver(tmp_path, server, alerts[:1], secret=f"{NEW} {OLD}")
    assert verify(NEW, seen.headers, seen.body) == json.loads(seen.body)
    assert verify(OLD, seen.headers, seen.body) == json.loads(seen.body)
    assert verify(OTHER, seen.headers, seen.body) is None
    assert verify(NEW, seen.headers, seen.body + b" ") is None
    assert verify(NEW, {}, seen.body) is None
    [stale] = deliver(tmp_path, server, alerts[1:], clock=ShiftedClock(-600), secret=NEW)
    assert verify(NEW, stale.headers, stale.body) is None
    plain = "a plain secret"
    [seen] = deliver(tmp_path, server, alerts_from_fixture(3)[2:], secret=plain)
    assert verify(plain, seen.headers, seen.body) == json.loads(seen.body)


def test_the_library_verifies_a_story_and_its_revision_through_a_key_rotation(
    tmp_path: Path, server: Receiver
) -> None:
    """Story notifications (what the sink sends by default), a first revision and
    a later one, each verified with either key while both are configured."""
    alerts = alerts_from_fixture(2)
    first = regroup(None, story_id("a0"), alerts[:1], False, 1_700_000_000.0).notification
    assert first is not None
    second = regroup(first, first.id, alerts, False, 1_700_000_060.0).notification
    assert second is not None and second.revision == 2
    settings = settings_for(tmp_path, [ReceiverSettings.model_validate(
        {"name": "newsroom", "url": server.url, "secret": f"{NEW} {OLD}"})],
        group_interval_s=0)
    bus = MemoryBus()
    role = DeliveryRole(RoleContext(settings, bus, Metrics(), ShiftedClock()))
    try:
        for story in (first, second):
            bus.producer().send(settings.bus.topics.alerts, story.id, encode(story))
            role.run_once(idle_s=0.3)
    finally:
        role.close()
    assert [json.loads(seen.body)["revision"] for seen in server.requests] == [1, 2]
    # Each revision is a new message: a receiver dropping seen webhook-ids keeps it.
    assert [seen.headers["webhook-id"] for seen in server.requests] == [
        f"{first.id}.r1", f"{first.id}.r2"
    ]
    assert {seen.headers["Idempotency-Key"] for seen in server.requests} == {first.id}
    for seen in server.requests:
        assert library_accepts(NEW, seen) and library_accepts(OLD, seen)
        assert not library_accepts(OTHER, seen)
        assert json.loads(seen.body)["schema"] == "story/1"
