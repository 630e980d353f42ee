"""SIGHUP applies every setting it re-reads, or says which need a restart."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
import yaml

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.reloads import plan_reload
from tests.ops.loopback import FeedSite, interference_items
from tests.support import wait_for, write_config


def edited(config: Path, section: str, **values: object) -> None:
    data = yaml.safe_load(config.read_text())
    data.setdefault(section, {}).update(values)
    config.write_text(yaml.safe_dump(data))


def polls(daemon: Daemon) -> float:
    """Feed polls the daemon counted so far, whatever their outcome."""
    return sum(
        sample.value
        for metric in daemon.metrics.registry.collect()
        if metric.name == "monitor_polls"
        for sample in metric.samples
        if sample.name == "monitor_polls_total"
    )


def test_each_changed_key_is_applied_in_place_by_a_rebuild_or_needs_a_restart(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, feeds=[("one", "https://a.example/feed.xml")])
    old = load_settings(config, environ={})
    edited(config, "poller", allow_private_addresses=False, user_agent="x/1")
    edited(config, "ops", http_port=9999, log_level="DEBUG")
    edited(config, "bus", kind="kafka")
    new = load_settings(config, environ={})
    plan = plan_reload(old, new, ["poller", "nlp", "alerts"])
    assert plan.in_place == ("ops.log_level",)
    assert dict(plan.rebuild or {}) == {
        "poller": ("poller.allow_private_addresses", "poller.user_agent")
    }
    assert plan.restart == ("bus.kind", "ops.http_port")
    # a process without a poller has nothing to rebuild: the keys are simply read later
    assert plan_reload(old, new, ["nlp"]).roles_to_rebuild == ()


def test_a_reload_rebuilds_the_poller_and_warns_about_restart_only_keys(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, feeds=[("one", "https://a.example/feed.xml")])
    daemon = Daemon(load_settings(config), ("poller",), config_path=config)
    try:
        before = daemon.roles[0]
        edited(config, "poller", allow_private_addresses=False)
        edited(config, "ops", http_port=9999)
        with caplog.at_level(logging.INFO, logger="monitor"):
            daemon.reload()
        assert daemon.roles[0] is not before
        assert daemon.settings.poller.allow_private_addresses is False
        messages = [(r.levelname, r.getMessage()) for r in caplog.records]
        assert ("WARNING", "setting ops.http_port changed; it takes effect only after a "
                "restart") in messages  # fmt: skip
        assert any("rebuilding role poller to apply poller.allow_private_addresses" in m
                   for _, m in messages)  # fmt: skip
    finally:
        daemon.close()


def test_a_running_poller_follows_allow_private_addresses_after_a_reload(tmp_path: Path) -> None:
    site = FeedSite()
    site.add(*interference_items(1))
    config = write_config(
        tmp_path, feeds=[("loop", f"{site.base_url}/feed.xml")],
        extra={"poller": {"allow_private_addresses": False, "backoff_base_s": 0.2,
                          "backoff_cap_s": 0.5, "min_interval_s": 0.2}},
    )  # fmt: skip
    daemon = Daemon(load_settings(config), ("poller",), config_path=config)
    serving = threading.Thread(target=site.serve_forever, daemon=True)
    serving.start()
    runner = threading.Thread(target=daemon.run, kwargs={"install_signals": False}, daemon=True)
    runner.start()
    try:
        wait_for(lambda: polls(daemon) > 0, 30, "the refused poll")
        assert site.fetched == []  # refused: loopback is not allowed yet
        edited(config, "poller", allow_private_addresses=True)
        daemon.request_reload()
        wait_for(lambda: bool(site.fetched), 30, "a poll after the reload")
    finally:
        daemon.request_stop()
        runner.join(30)
        site.shutdown()
        site.server_close()
