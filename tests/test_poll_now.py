"""``monitor feeds poll-now`` on a running daemon, and backoff reset by a config change."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.feeds.commands import DaemonUnreachable
from monitor.feeds.role import retried_now
from monitor.feeds.state import new_state
from monitor.ops.server import OpsServer, _is_loopback, start_ops_server
from tests.ops.loopback import FeedSite, interference_items
from tests.support import free_port, wait_for, write_config


class FlakyFeed(ThreadingHTTPServer):
    """One feed at ``/feed.xml`` that answers 500 while :attr:`failing`; counts requests."""

    daemon_threads = True

    def __init__(self, site: FeedSite) -> None:
        super().__init__(("127.0.0.1", 0), _FlakyHandler)
        self.site = site
        self.url = f"http://127.0.0.1:{self.server_address[1]}/feed.xml"
        self.failing = True
        self.hits = 0


class _FlakyHandler(BaseHTTPRequestHandler):
    server: FlakyFeed

    def do_GET(self) -> None:
        self.server.hits += 1
        body = b"" if self.server.failing else self.server.site.rss()
        self.send_response(500 if self.server.failing else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def flaky() -> Iterator[FlakyFeed]:
    site = FeedSite()
    site.add(*interference_items(1))
    server = FlakyFeed(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def start(config: Path) -> tuple[Daemon, OpsServer, threading.Thread]:
    daemon = Daemon(load_settings(config), ("poller",), config_path=config)
    server = start_ops_server(daemon)
    runner = threading.Thread(target=daemon.run, kwargs={"install_signals": False}, daemon=True)
    runner.start()
    return daemon, server, runner


def stop(daemon: Daemon, server: OpsServer, runner: threading.Thread) -> None:
    daemon.request_stop()
    runner.join(30)
    server.close()


def poll_now(server: OpsServer, config: Path, *args: str) -> Any:
    url = f"http://127.0.0.1:{server.port}"
    return CliRunner().invoke(cli, ["--config", str(config), "feeds", "poll-now", "--url", url,
                                    *args])  # fmt: skip


def test_retried_now_only_moves_a_feed_waiting_out_a_failure_backoff() -> None:
    fresh = replace(new_state("f", "https://a.example/", 0.0), next_poll_at=500.0)
    assert retried_now(fresh, 100.0) == fresh  # no failures: its schedule stands
    failing = replace(fresh, failures=3)
    assert retried_now(failing, 100.0) == replace(failing, next_poll_at=100.0)
    assert retried_now(replace(failing, next_poll_at=50.0), 100.0).next_poll_at == 50.0


def test_poll_now_polls_a_feed_in_backoff_on_the_running_daemon(
    tmp_path: Path, flaky: FlakyFeed
) -> None:
    config = write_config(tmp_path, feeds=[("flaky", flaky.url)])
    daemon, server, runner = start(config)
    try:
        wait_for(lambda: flaky.hits == 1, 30, "the first, failing poll")
        flaky.failing = False
        result = poll_now(server, config, "flaky")
        assert result.exit_code == 0, result.output
        assert result.stdout == "polling now: flaky\n"
        wait_for(lambda: flaky.hits == 2, 30, "the poll asked for")
        everything = poll_now(server, config, "--all")
        assert everything.exit_code == 0 and "flaky" in everything.stdout
        unknown = poll_now(server, config, "flaky", "nosuch")
        assert unknown.exit_code == 1
        assert "error: not polled by this daemon: nosuch" in unknown.stderr
    finally:
        stop(daemon, server, runner)


def test_a_changed_feed_entry_resets_its_failure_backoff(tmp_path: Path, flaky: FlakyFeed) -> None:
    config = write_config(tmp_path, feeds=[("flaky", flaky.url)])
    daemon, server, runner = start(config)
    try:
        wait_for(lambda: flaky.hits == 1, 30, "the first, failing poll")
        flaky.failing = False  # the operator fixed the cause …
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            yaml.safe_dump(
                {"feeds": [{"id": "flaky", "url": flaky.url, "title": "Flaky", "interval_s": 120}]}
            )
        )
        daemon.request_reload()  # … and changed its entry: no 60 s backoff wait
        wait_for(lambda: flaky.hits == 2, 30, "a poll right after the change")
    finally:
        stop(daemon, server, runner)


def test_a_restarted_poller_tries_a_failing_feed_at_once(tmp_path: Path, flaky: FlakyFeed) -> None:
    config = write_config(tmp_path, feeds=[("flaky", flaky.url)])
    daemon, server, runner = start(config)
    try:
        wait_for(lambda: flaky.hits == 1, 30, "the first, failing poll")
    finally:
        stop(daemon, server, runner)
    assert daemon.roles[0].feed_states["flaky"].failures == 1  # type: ignore[attr-defined]
    daemon, server, runner = start(config)
    try:
        wait_for(lambda: flaky.hits == 2, 30, "a poll at start despite the stored backoff")
    finally:
        stop(daemon, server, runner)


def test_the_endpoint_takes_json_from_loopback_only(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    daemon, server, runner = start(config)
    base = f"http://127.0.0.1:{server.port}/feeds/poll-now"
    try:
        form = httpx.post(base, content=b'{"all": true}', headers={"Content-Type": "text/plain"})
        assert form.status_code == 415  # what a cross-site form could send
        assert httpx.post(base, json={"feeds": []}).status_code == 400
        assert httpx.post(base, json={"all": True}).json() == {"polling": [], "unknown": []}
        assert httpx.get(base).status_code == 404
    finally:
        stop(daemon, server, runner)
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("::ffff:127.0.0.1")
    assert not _is_loopback("192.168.1.5") and not _is_loopback("10.0.0.1")


def test_poll_now_usage_and_no_daemon(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "feeds", "poll-now"]).exit_code == 2
    both = runner.invoke(cli, ["--config", str(config), "feeds", "poll-now", "a", "--all"])
    assert both.exit_code == 2
    nobody = runner.invoke(cli, ["--config", str(config), "feeds", "poll-now", "a", "--url",
                                 f"http://127.0.0.1:{free_port()}"])  # fmt: skip
    assert nobody.exit_code == 1 and isinstance(nobody.exception, DaemonUnreachable)
