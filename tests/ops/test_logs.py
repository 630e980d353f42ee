"""Log output: JSON lines for machines, plain text on a terminal."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.bus.worker import Outgoing, StageWorker
from monitor.clock import FrozenClock, SystemClock
from monitor.errors import PoisonError
from monitor.feeds.role import PollerRole
from monitor.messages import Article, Source
from monitor.ops.logs import THIRD_PARTY_LOGGERS, configure_logging
from monitor.ops.metrics import Metrics
from monitor.ops.settings import OpsSettings
from monitor.roles import RoleContext
from tests.feeds.builders import settings_for
from tests.feeds.httpserver import FeedServer, Reply


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


def _logged_in_thread(thread_name: str) -> dict[str, Any]:
    """The JSON event of one line logged, with no context, from a thread so named."""
    out = io.StringIO()
    configure_logging(OpsSettings(log_format="json"), stream=out)
    thread = threading.Thread(
        target=lambda: logging.getLogger("monitor.bus.worker").warning("something happened"),
        name=thread_name,
    )
    thread.start()
    thread.join()
    event: dict[str, Any] = json.loads(out.getvalue())
    return event


def test_role_comes_from_the_daemons_role_thread() -> None:
    assert _logged_in_thread("role-nlp")["role"] == "nlp"


def test_role_comes_from_the_delivery_pool_and_drain_threads() -> None:
    assert _logged_in_thread("delivery_0")["role"] == "delivery"
    assert _logged_in_thread("drain-alerts")["role"] == "alerts"


def test_role_passed_explicitly_wins_and_other_threads_get_none() -> None:
    out = io.StringIO()
    configure_logging(OpsSettings(log_format="json"), stream=out)
    logging.getLogger("monitor.daemon").info("monitor running")
    logging.getLogger("monitor.daemon").error("role x crashed", extra={"role": "poller"})
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert "role" not in first
    assert second["role"] == "poller"


def test_a_failed_poll_is_logged_with_its_feed_id(tmp_path: Path) -> None:
    out = io.StringIO()
    configure_logging(OpsSettings(log_format="json"), stream=out)
    with FeedServer() as server:
        server.routes["/feed"] = Reply(500, b"down")
        settings = settings_for(tmp_path, {"wire": server.url("/feed")})
        role = PollerRole(RoleContext(settings, MemoryBus(), Metrics(), SystemClock()))
        try:
            assert role.run_once() == 0
        finally:
            role.close()
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    failures = [e for e in events if e["level"] == "WARNING" and e["logger"] == "monitor.feeds"]
    assert len(failures) == 1, events
    assert failures[0]["feed_id"] == "wire"
    assert "wire" in failures[0]["message"]


def test_a_dead_lettered_article_is_logged_with_its_article_id() -> None:
    out = io.StringIO()
    configure_logging(OpsSettings(log_format="json"), stream=out)

    def refuse(article: Article) -> Iterator[Outgoing]:
        raise PoisonError(f"article {article.id}: cannot be tagged")

    bus = MemoryBus()
    article = Article(
        id="a1", url="https://news.example/1", title="T", text="Body.", text_source="content",
        feed_id="f", sources=(Source("f", "https://news.example/feed"),),
        fetched_at="2024-08-06T09:00:00Z",
    )
    bus.producer().send("articles", article.id, encode(article))
    worker = StageWorker(
        stage="nlp", consumer=bus.consumer(["articles"], "g"), producer=bus.producer(),
        kind=Article, handle=refuse, deadletter_topic="dead", metrics=Metrics(),
        clock=FrozenClock(), poll_timeout_s=0.05,
    )
    worker.drain(idle_s=0.05)
    worker.close()
    (event,) = (json.loads(line) for line in out.getvalue().splitlines())
    assert event["message"].startswith("dead-lettered")
    assert event["article_id"] == "a1" and event["stage"] == "nlp"
