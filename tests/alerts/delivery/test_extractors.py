"""What the delivery engine reads from its topics."""

from __future__ import annotations

import pytest

from monitor.alerts.delivery import RECEIVER_HEADER, deadletter_extractor, topic_extractor
from monitor.bus.base import Record
from monitor.bus.codec import encode
from monitor.errors import PoisonError
from monitor.messages import DeadLetter
from tests.alerts.test_delivery import alerts_from_fixture


def _letter(failed_at: str, receiver: str) -> Record:
    alert = alerts_from_fixture(1)[0]
    letter = DeadLetter(topic="monitor.alerts", key=alert.id,
                        value=encode(alert).decode("utf-8"), reason="receiver down",
                        error_kind="retryable", stage="delivery", failed_at=failed_at)
    return Record("monitor.alerts.deadletter", 0, 0, alert.id, encode(letter),
                  headers={RECEIVER_HEADER: receiver.encode()})


def test_an_alert_from_the_topic_goes_to_every_receiver() -> None:
    alert = alerts_from_fixture(1)[0]
    record = Record("monitor.alerts", 0, 0, alert.id, encode(alert))
    assert topic_extractor(("a", "b"))(record) == (alert, ("a", "b"))


def test_a_dead_letter_goes_back_to_the_receiver_that_failed_it_or_the_one_asked() -> None:
    extract = deadletter_extractor(("a", "b"), started="2030-01-01T00:00:00Z")
    found = extract(_letter("2029-01-01T00:00:00Z", "b"))
    assert found is not None and found[1] == ("b",)
    only = deadletter_extractor(("a", "b"), "2030-01-01T00:00:00Z", only="a")
    found = only(_letter("2029-01-01T00:00:00Z", "b"))
    assert found is not None and found[1] == ("a",)


def test_a_letter_of_this_very_replay_is_left_for_the_next_one() -> None:
    extract = deadletter_extractor(("a",), started="2030-01-01T00:00:00Z")
    assert extract(_letter("2030-01-01T00:00:00Z", "a")) is None


def test_a_letter_naming_an_unknown_receiver_is_poison() -> None:
    extract = deadletter_extractor(("a",), started="2030-01-01T00:00:00Z")
    with pytest.raises(PoisonError, match="unknown receiver 'gone'"):
        extract(_letter("2029-01-01T00:00:00Z", "gone"))
