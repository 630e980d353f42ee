"""The one reading of Retry-After (RFC 9110 section 10.2.3) and the User-Agent values."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from monitor.http import MAX_RETRY_AFTER_S, parse_retry_after, user_agent

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("86400", 86400.0),  # a day is honoured as asked
        ("999999", MAX_RETRY_AFTER_S),  # longer is cut to a day
        ("9" * 40, MAX_RETRY_AFTER_S),
    ],
)
def test_delay_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_an_http_date_is_the_time_until_it_and_zero_once_it_has_passed() -> None:
    assert parse_retry_after(formatdate(NOW + 90, usegmt=True), NOW) == 90.0
    assert parse_retry_after(formatdate(NOW - 90, usegmt=True), NOW) == 0.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:02:00 GMT", now=60) == 60.0
    assert parse_retry_after(formatdate(NOW + 10 * 86400, usegmt=True), NOW) == MAX_RETRY_AFTER_S


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 15 Jan 2027 08:01:00 GMT",  # IMF-fixdate
        "Friday, 15-Jan-27 08:01:00 GMT",  # obsolete RFC 850 form
        "Fri Jan 15 08:01:00 2027",  # obsolete asctime form: no zone, GMT all the same
        "Fri, 15 Jan 2027 08:01:00 -0000",
    ],
)
def test_every_http_date_form_is_read_as_gmt(value: str) -> None:
    assert parse_retry_after(value, NOW) == 60.0


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "-5", "1.5", "١٢", "Fri, 99 Foo"])
def test_a_missing_or_invalid_value_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_user_agents_name_the_product_and_its_version() -> None:
    assert user_agent() == "news-monitor/0.1"
    assert user_agent("alerts") == "news-monitor-alerts/0.1"
    assert user_agent(comment="+https://x.invalid") == "news-monitor/0.1 (+https://x.invalid)"
