"""Log output: JSON lines for machines, plain text on a terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from monitor.ops.logs import THIRD_PARTY_LOGGERS, configure_logging
from monitor.ops.settings import OpsSettings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_loggers() -> Iterator[None]:
    yield
    for name in ("monitor", *THIRD_PARTY_LOGGERS):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def test_auto_is_json_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    configure_logging(OpsSettings(), stream=out)
    logging.getLogger("monitor.feeds").warning(
        "feed %s failed", "wire", extra={"feed_id": "wire", "role": "poller"}
    )
    event = json.loads(out.getvalue())
    assert event["message"] == "feed wire failed"
    assert event["level"] == "WARNING" and event["logger"] == "monitor.feeds"
    assert event["feed_id"] == "wire" and event["role"] == "poller"
    assert event["time"].endswith("+00:00")


def test_auto_is_text_on_a_terminal() -> None:
    out = Terminal()
    configure_logging(OpsSettings(), stream=out)
    logging.getLogger("monitor.daemon").info("monitor running")
    line = out.getvalue()
    assert not line.startswith("{") and "INFO" in line and "monitor running" in line


def test_third_party_warnings_share_the_stream_and_debug_is_dropped() -> None:
    out = io.StringIO()
    configure_logging(OpsSettings(log_format="json"), stream=out)
    logging.getLogger("httpx").info("chatty")
    logging.getLogger("httpx").warning("worth knowing")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["message"] for e in lines] == ["worth knowing"]
