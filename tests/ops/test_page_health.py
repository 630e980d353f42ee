"""The status page shows delivery health per receiver, feed titles, and feed errors
with their time while the feed fails — not once it has recovered."""

from __future__ import annotations

from pathlib import Path

import httpx

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.ops.page import render_live
from monitor.ops.server import start_ops_server
from monitor.ops.sources import FeedHealthView
from monitor.ops.watch import ReceiverHealth
from tests.ops.test_page import data
from tests.support import write_config


def test_each_receiver_is_shown_with_its_state() -> None:
    html = render_live(data(receivers=[
        ReceiverHealth("desk", "breaker open", delivered=1, failed=6, failing_in_a_row=6),
        ReceiverHealth("<chat>", "ok", delivered=3),
    ]))  # fmt: skip
    assert '<tr class="receiver rcv-breaker-open" data-receiver="desk">' in html
    assert "BREAKER OPEN" in html and "6 (6 in a row)" in html
    assert "&lt;chat&gt;" in html and "<chat>" not in html
    assert "No receivers configured." in render_live(data())


def test_feed_titles_and_errors_only_while_failing_with_their_time() -> None:
    failing = FeedHealthView("wire", "https://w.example/f", "broken", failures=5,
                             last_error="HTTP 500", last_error_at="2026-12-05T10:00:00Z",
                             title="World Wire")  # fmt: skip
    recovered = FeedHealthView(
        "desk", "https://d.example/f", "ok", last_error="HTTP 500", last_error_at="yesterday"
    )
    html = render_live(data(feeds=[failing, recovered]))
    assert ">World Wire</td>" in html and 'title="wire · https://w.example/f"' in html
    assert "<time>2026-12-05T10:00:00Z</time> HTTP 500" in html
    assert html.count("HTTP 500") == 1  # the recovered feed's old error is gone
    assert ">desk</td>" in html  # no title: the id


def test_readyz_details_receivers_without_changing_the_verdict(tmp_path: Path) -> None:
    config = write_config(tmp_path, receivers=["http://127.0.0.1:9/hook"])
    daemon = Daemon(load_settings(config), ("poller",), config_path=config)
    server = start_ops_server(daemon)
    try:
        for _ in range(6):
            daemon.metrics.deliveries.labels("hook0", "connect").inc()
        base = f"http://127.0.0.1:{server.port}"
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503  # roles not started: the verdict is the process's
        receivers = ready.json()["receivers"]
        assert [(r["name"], r["state"]) for r in receivers] == [("hook0", "breaker open")]
        page = httpx.get(f"{base}/").text
        assert 'data-receiver="hook0"' in page and "BREAKER OPEN" in page
        status = httpx.get(f"{base}/api/status").json()
        assert status["receivers"][0]["failing_in_a_row"] == 6
    finally:
        server.close()
        daemon.close()


def test_a_receiver_that_is_down_shows_on_readyz_and_the_page(tmp_path: Path) -> None:
    """The defect as reported: the webhook receiver down, six failed attempts, and the
    page and /readyz looked fully healthy."""
    import threading

    from monitor.demo import serving
    from tests.ops.loopback import FeedSite, GatedReceiver, interference_items
    from tests.support import wait_for

    site, receiver = FeedSite(), GatedReceiver(hold_s=0.0)  # answers 503 at once
    site.add(*interference_items(1))
    config = write_config(
        tmp_path, feeds=[("loop", f"{site.base_url}/feed.xml")], receivers=[receiver.url],
        extra={"alerts": {"retry": {"backoff": {"base_s": 0.05, "cap_s": 0.1}}}},
    )  # fmt: skip
    daemon = Daemon(load_settings(config), ("poller", "nlp", "alerts"), config_path=config)
    server = start_ops_server(daemon)
    runner = threading.Thread(target=daemon.run, kwargs={"install_signals": False}, daemon=True)
    base = f"http://127.0.0.1:{server.port}"
    with serving(site), serving(receiver):
        runner.start()
        try:
            wait_for(lambda: receiver.calls >= 6, 90, "six failed attempts")

            def state() -> str:
                return str(httpx.get(f"{base}/readyz").json()["receivers"][0]["state"])

            wait_for(lambda: state() == "breaker open", 30, "the receiver shown broken")
            assert httpx.get(f"{base}/readyz").json()["ready"] is True  # about the process
            assert "BREAKER OPEN" in httpx.get(f"{base}/").text
        finally:
            daemon.request_stop()
            runner.join(60)
            server.close()
