"""The daemon as operators run it: a separate ``monitor run`` process on the
embedded bus, a loopback feed server and a loopback webhook receiver.

* SIGTERM while alerts are waiting to be delivered: the process drains the
  embedded bus, every article the poller took reaches the webhook, and it
  exits 0 without a traceback.
* SIGHUP after a rule is added to the rules file and a feed to the feed
  list: the new rule fires on the next article and the new feed is polled,
  without a restart (the rules-file watcher is switched off, so only the
  reload can have done it).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import Settings, load_settings
from monitor.daemon import ROLE_FACTORIES, Daemon
from monitor.demo import WebhookReceiver, serving
from monitor.roles import STAGE_NAMES, RoleContext
from tests.feeds.helpers import recorded_articles
from tests.kafka_broker import KafkaTopics
from tests.ops.loopback import FeedSite, GatedReceiver, Item, interference_items
from tests.support import MonitorProcess, wait_for, write_config
from tests.test_end_to_end import alerts_of

ARTICLES_UNDER_LOAD = 120


@pytest.fixture
def site() -> Iterator[FeedSite]:
    server = FeedSite()
    with serving(server):
        yield server


def daemon_config(
    folder: Path,
    site: FeedSite,
    receiver_url: str,
    rules: list[dict[str, Any]],
    bus: dict[str, Any] | None = None,
) -> Path:
    rules_file = folder / "rules.yaml"
    write_rules(rules_file, rules)
    return write_config(
        folder,
        feeds=[("loopback", f"{site.base_url}/feed.xml")],
        receivers=[receiver_url],
        bus=bus,
        extra={
            "rules_file": str(rules_file),
            "poller": {
                "allow_private_addresses": True,
                "fetch_pages": False,
                "min_interval_s": 1,
                "max_interval_s": 1,
                "default_interval_s": 1,
                "per_host_delay_s": 0,
            },
            "alerts": {
                "watch_rules": False,
                "max_in_flight": 4,
                "dedup": {"similarity": 100, "rate_limit_count": 100000},
            },
            "ops": {"http_port": 0, "shutdown_grace_s": 120, "log_format": "json"},
        },
    )


def write_rules(path: Path, rules: list[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump({"version": 1, "rules": rules}))


def rule(name: str, *keywords: str) -> dict[str, Any]:
    return {"name": name, "severity": "high", "when": {"keywords": list(keywords)}}


def log_events(output: str) -> list[dict[str, Any]]:
    """The JSON log lines of a monitor process (other lines are ignored)."""
    events = []
    for line in output.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def taken_article_urls(config: Path) -> set[str]:
    """Articles the poller recorded as published (it never publishes them again)."""
    return {entry.url for entry in recorded_articles(load_settings(config)).values()}


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_sigterm_under_load_drains_everything_and_exits_0(
    tmp_path: Path, site: FeedSite, stop_signal: signal.Signals
) -> None:
    """SIGTERM (an orchestrator) and SIGINT (Ctrl-C) both stop the daemon cleanly."""
    receiver = GatedReceiver()  # holds every webhook call until SIGTERM has been sent
    items = interference_items(ARTICLES_UNDER_LOAD)
    site.add(*items)
    config = daemon_config(tmp_path, site, receiver.url, [rule("zembla", "interfer*")])
    with serving(receiver):
        process = MonitorProcess(config, "run")
        try:
            wait_for(lambda: receiver.calls > 0, 90, "the first webhook call")
            process.popen.send_signal(stop_signal)
            receiver.gate.set()
            process.popen.wait(timeout=150)  # stop() now only collects: no second signal
            code = process.stop()
        finally:
            receiver.gate.set()
            if process.popen.poll() is None:
                process.stop(signal.SIGKILL)
    output = process.output()
    assert code == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "test-secret" not in output  # the receivers' signing key (tests.support)
    stopped = [e for e in log_events(output) if e.get("message") == "monitor stopped"]
    assert stopped and stopped[-1]["clean"] is True
    taken = taken_article_urls(config)
    assert taken == {site.article_url(i) for i in items}
    delivered = {alert["article"]["url"] for alert in receiver.delivered}
    assert taken - delivered == set(), f"taken but never delivered: {sorted(taken - delivered)}"


@pytest.mark.kafka
def test_sigterm_under_load_on_kafka_leaves_the_rest_for_the_next_process(
    tmp_path: Path, site: FeedSite, kafka_bootstrap: str, kafka_topics: KafkaTopics
) -> None:
    """On Kafka a stopping process commits only what it finished; a new one delivers the rest."""
    receiver = GatedReceiver()
    items = interference_items(ARTICLES_UNDER_LOAD // 2)
    site.add(*items)
    bus = {
        "kind": "kafka",
        "kafka": {"bootstrap_servers": kafka_bootstrap},
        "topics": kafka_topics.names.model_dump(),
        "groups": {r: kafka_topics.group(r) for r in STAGE_NAMES},
    }
    config = daemon_config(tmp_path, site, receiver.url, [rule("zembla", "interfer*")], bus)
    expected = {site.article_url(i) for i in items}
    with serving(receiver):
        first = MonitorProcess(config, "run")
        try:
            wait_for(lambda: receiver.calls > 0, 120, "the first webhook call")
            first.popen.send_signal(signal.SIGTERM)
            receiver.gate.set()
            first.popen.wait(timeout=150)
            first_code = first.stop()
        finally:
            receiver.gate.set()
            if first.popen.poll() is None:
                first.stop(signal.SIGKILL)
        assert first_code == 0, first.output()[-3000:]
        assert "Traceback" not in first.output(), first.output()[-3000:]
        assert taken_article_urls(config) == expected

        def delivered() -> set[str]:
            return {alert["article"]["url"] for alert in receiver.delivered}

        second = MonitorProcess(config, "run")
        try:
            # Stopped only once it runs: a SIGTERM before its handler is set kills it,
            # and the first process may have left nothing to deliver.
            wait_for(lambda: "monitor running roles" in second.output(), 120,
                     "the second process to start its roles")
            wait_for(lambda: delivered() >= expected, 150, "the rest to be delivered")
        finally:
            second_code = second.stop()
    assert second_code == 0, second.output()[-3000:]
    assert "Traceback" not in second.output(), second.output()[-3000:]


def test_sighup_reloads_rules_and_feeds_without_restart(tmp_path: Path, site: FeedSite) -> None:
    receiver = WebhookReceiver()
    site.add(Item("first", "Harbour notes", "The Zeppelin museum in Arbor reopened on Monday."))
    config = daemon_config(tmp_path, site, receiver.url, [rule("zeppelin", "zeppelin")])
    rules_file = tmp_path / "rules.yaml"

    def rules_fired() -> set[str]:
        return {a["rule"] for a in alerts_of(list(receiver.received))}

    with serving(receiver):
        process = MonitorProcess(config, "run")
        try:
            wait_for(lambda: "zeppelin" in rules_fired(), 90, "the first rule to fire")
            write_rules(rules_file, [rule("zeppelin", "zeppelin"), rule("walrus", "walrus")])
            (tmp_path / "feeds.yaml").write_text(
                yaml.safe_dump(
                    {
                        "feeds": [
                            {"id": "loopback", "url": f"{site.base_url}/feed.xml"},
                            {"id": "added", "url": f"{site.base_url}/feed.xml?edition=added"},
                        ]
                    }
                )
            )
            process.popen.send_signal(signal.SIGHUP)
            wait_for(
                lambda: any(
                    e.get("message") == "configuration reloaded"
                    for e in log_events(process.output())
                ),
                30,
                "the reload to be logged",
            )
            site.add(Item("second", "Shore report", "A walrus was seen near the Brisk harbour."))
            wait_for(lambda: "walrus" in rules_fired(), 60, "the new rule to fire")
            wait_for(lambda: "/feed.xml?edition=added" in site.fetched, 60, "the added feed")
            pid_before = process.popen.pid
            assert process.popen.poll() is None, "the daemon exited after SIGHUP"
        finally:
            code = process.stop()
    output = process.output()
    assert process.popen.pid == pid_before
    assert code == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]


class FlakyRole:
    """A role whose first instance crashes (with a secret in the message), whose first
    rebuild fails (as when the broker is still down), and which then runs."""

    name = "nlp"

    def __init__(self, ctx: RoleContext) -> None:
        self._marker = ctx.settings.state_dir / "flaky-crashed"
        self._token = ctx.settings.ops.http_token
        refuse = ctx.settings.state_dir / "flaky-refuse-build"
        if refuse.exists():
            refuse.unlink()
            raise RuntimeError("cannot build yet")

    def run_once(self) -> int:
        return 0

    def run(self, stop: threading.Event) -> None:
        if not self._marker.exists():
            self._marker.parent.mkdir(parents=True, exist_ok=True)
            self._marker.touch()
            (self._marker.parent / "flaky-refuse-build").touch()
            secret = self._token.get_secret_value() if self._token else ""
            raise RuntimeError(f"broker said no to {secret}")
        stop.wait()

    def reload(self, settings: Settings) -> None:
        return None

    def close(self) -> None:
        return None


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_crashed_role_is_restarted_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ROLE_FACTORIES, "nlp", "tests.test_daemon:FlakyRole")
    config = write_config(tmp_path, extra={"ops": {"http_token": "crash-secret-99"}})
    daemon = Daemon(load_settings(config, environ={}), ("nlp",))
    runner = threading.Thread(target=lambda: codes.append(daemon.run(install_signals=False)))
    codes: list[int] = []
    collect = Collect()
    logging.getLogger("monitor.daemon").addHandler(collect)
    try:
        runner.start()
        wait_for(lambda: daemon.role_states[0].restarts == 1, 30, "the restart to be counted")
        wait_for(lambda: daemon.role_states[0].running, 90, "the role to run again")
        daemon.request_stop()
        runner.join(60)
    finally:
        logging.getLogger("monitor.daemon").removeHandler(collect)
    assert codes == [0]
    assert daemon.metrics.role_restarts.labels("nlp")._value.get() == 1
    messages = [r.getMessage() for r in collect.records]
    assert "crashed (RuntimeError: broker said no to ***)" in messages[0]
    assert "crash-secret-99" not in "".join(messages)
    crash_logs = [r for r in collect.records if "role nlp crashed" in r.getMessage()]
    assert crash_logs and getattr(crash_logs[0], "role", None) == "nlp"
    assert any("could not be rebuilt (RuntimeError: cannot build yet)" in m for m in messages)
    assert isinstance(daemon.roles[0], FlakyRole)  # a fresh instance replaced the crashed one


def test_role_names_factories_and_stages_come_from_one_registry() -> None:
    from monitor.config import GroupNames, Settings
    from monitor.roles import (
        ARTICLE_KEYED_STAGES,
        REGISTRY,
        ROLE_NAMES,
        SOURCE_STAGES,
        STAGE_NAMES,
        owner_of,
    )

    assert ROLE_NAMES == tuple(spec.name for spec in REGISTRY) == Settings().roles
    assert {spec.name: spec.factory for spec in REGISTRY} == ROLE_FACTORIES
    assert set(GroupNames.model_fields) == set(STAGE_NAMES)
    assert owner_of("delivery").name == "alerts"
    assert all(owner_of(spec.name) is spec for spec in REGISTRY)
    assert {"poller"} == SOURCE_STAGES
    assert {"nlp", "alerts", "publisher"} == ARTICLE_KEYED_STAGES
