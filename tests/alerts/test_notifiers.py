"""Notifier boundaries: status codes, Retry-After, payload shapes."""

from __future__ import annotations

import dataclasses
import json
import time
from email.utils import formatdate

import pytest
from pydantic import ValidationError

from monitor.alerts.notifiers import (
    HttpNotifier,
    ReceiverRejected,
    ReceiverUnavailable,
    check_response,
    endpoint,
    receiver_pause,
)
from monitor.alerts.payloads import alertmanager_body, render, slack_body
from monitor.alerts.settings import ReceiverSettings
from monitor.clock import SystemClock, iso_utc
from monitor.errors import RetryableError
from tests.alerts.helpers import dripping_receiver
from tests.alerts.test_delivery import alerts_from_fixture

NOW = 1_800_000_000.0


def test_status_codes_are_sorted_into_retryable_and_permanent() -> None:
    check_response("r", 204, None, NOW)
    for status in (408, 425, 429, 500, 503):
        with pytest.raises(ReceiverUnavailable):
            check_response("r", status, None, NOW)
    for status in (400, 401, 404, 410, 422):
        with pytest.raises(ReceiverRejected, match=f"HTTP {status}"):
            check_response("r", status, None, NOW)
    with pytest.raises(ReceiverUnavailable) as info:
        check_response("r", 429, "7", NOW)
    assert (info.value.retry_after, info.value.outcome) == (7.0, "throttled")


def test_a_receiver_pause_is_the_shared_reading_of_retry_after_at_most_an_hour() -> None:
    assert receiver_pause("120", NOW) == 120.0
    assert receiver_pause(formatdate(NOW + 30, usegmt=True), NOW) == pytest.approx(30, abs=1)
    assert receiver_pause(formatdate(NOW - 30, usegmt=True), NOW) == 0.0
    assert receiver_pause("86400", NOW) == 3600.0
    assert receiver_pause("999999", NOW) == 3600.0
    assert receiver_pause("soon", NOW) is None
    assert receiver_pause(None, NOW) is None
    with pytest.raises(ReceiverUnavailable) as info:
        check_response("r", 503, "999999", NOW)
    assert info.value.retry_after == 3600.0


def test_alertmanager_url_gets_the_api_path_once() -> None:
    base = ReceiverSettings.model_validate(
        {"name": "am", "kind": "alertmanager", "url": "http://127.0.0.1:9093"})
    full = base.model_copy(update={"url": "http://127.0.0.1:9093/api/v2/alerts"})
    assert endpoint(base) == endpoint(full) == "http://127.0.0.1:9093/api/v2/alerts"


def test_slack_and_alertmanager_payloads_carry_the_essentials() -> None:
    alert = alerts_from_fixture(1)[0]
    slack = json.loads(slack_body(alert))
    assert alert.statement.text in slack["text"] and alert.article.url in slack["text"]
    assert slack["blocks"][0]["type"] == "header"
    [entry] = json.loads(alertmanager_body(alert, now=NOW))
    assert entry["labels"]["alertname"] == alert.rule
    assert entry["labels"]["alert_id"] == alert.id
    assert all(k.replace("_", "").isalnum() for k in entry["labels"])
    assert entry["generatorURL"] == alert.article.url


def test_alertmanager_alerts_end_resolve_after_s_after_they_are_sent() -> None:
    alert = alerts_from_fixture(1)[0]
    [default] = json.loads(alertmanager_body(alert, now=NOW))
    assert default["endsAt"] == iso_utc(NOW + 3600, millis=True)
    assert default["startsAt"] == alert.created_at
    [short] = json.loads(alertmanager_body(alert, now=NOW, resolve_after_s=90))
    assert short["endsAt"] == iso_utc(NOW + 90, millis=True)
    receiver = ReceiverSettings.model_validate(
        {"name": "am", "kind": "alertmanager", "url": "http://127.0.0.1:9093",
         "resolve_after_s": 600})
    [rendered] = json.loads(render(receiver, alert, NOW))
    assert rendered["endsAt"] == iso_utc(NOW + 600, millis=True)
    for bad in (0, -5):
        with pytest.raises(ValidationError, match="resolve_after_s"):
            ReceiverSettings.model_validate(
                {"name": "am", "kind": "alertmanager", "url": "http://127.0.0.1:9093",
                 "resolve_after_s": bad})


def test_alertmanager_generator_url_is_the_article_when_it_is_a_web_address() -> None:
    alert = alerts_from_fixture(1)[0]
    [entry] = json.loads(alertmanager_body(alert, now=NOW))
    assert entry["generatorURL"] == alert.article.url
    odd = dataclasses.replace(alert, article=dataclasses.replace(alert.article, url="urn:x:1"))
    [entry] = json.loads(alertmanager_body(odd, now=NOW))
    assert "generatorURL" not in entry


@pytest.mark.parametrize("head", [
    pytest.param(b"HTTP/1.1 200 OK\r\n", id="headers"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", id="body"),
])
def test_a_dribbling_receiver_is_given_up_on_at_the_timeout(head: bytes) -> None:
    timeout_s = 0.5
    with dripping_receiver(head) as url:
        receiver = ReceiverSettings.model_validate(
            {"name": "slow", "url": url, "timeout_s": timeout_s})
        notifier = HttpNotifier(receiver, (), SystemClock())
        started = time.monotonic()
        try:
            with pytest.raises(ReceiverUnavailable) as info:
                notifier.send(alerts_from_fixture(1)[0])
        finally:
            notifier.close()
        elapsed = time.monotonic() - started
    assert isinstance(info.value, RetryableError) and info.value.outcome == "timeout"
    assert elapsed < 3 * timeout_s
