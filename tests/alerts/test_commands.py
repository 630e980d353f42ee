"""The alerts CLI: list, silence, and check-config on a broken rules file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.alerts.silences import SilenceStore, SilenceTopic
from monitor.alerts.store import AlertStore
from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from monitor.cli import cli
from tests.alerts.test_delivery import alerts_from_fixture
from tests.kafka_broker import KafkaTopics
from tests.support import run_monitor, wait_for, write_config


def test_alerts_list_shows_history_as_lines_or_json(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    alerts = alerts_from_fixture(2)
    store = AlertStore.in_dir(tmp_path / "state")
    for n, alert in enumerate(alerts):
        store.record(alert, 1_800_000_000 + n)
    store.mark(alerts[0].id, "hook0", "delivered", 1, "", 1_800_000_010)
    store.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "alerts", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[3] == alerts[1].id  # newest first
    assert "[hook0=delivered]" in lines[1]
    result = runner.invoke(cli, ["--config", str(config), "alerts", "list", "--json",
                                 "--search", alerts[0].rule])
    rows = {row["id"]: row for row in map(json.loads, result.output.splitlines())}
    assert rows[alerts[0].id]["deliveries"] == {"hook0": "delivered"}
    assert all(row["rule"] == alerts[0].rule for row in rows.values())


def test_alerts_silence_records_a_time_bounded_silence(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "alerts", "silence", "--rule",
                                 "election-result-disputed", "--label", "topic=election",
                                 "--for", "90m", "--comment", "known story"])
    assert result.exit_code == 0, result.output
    store = SilenceStore.in_dir(tmp_path / "state")
    [silence] = store.active(now=0)
    store.close()
    assert silence.rule == "election-result-disputed"
    assert silence.labels == (("topic", "election"),)
    assert silence.ends - silence.starts == 90 * 60
    listed = runner.invoke(cli, ["--config", str(config), "alerts", "silences"])
    assert listed.output.startswith(silence.id) and "labels=topic=election" in listed.output
    ended = runner.invoke(cli, ["--config", str(config), "alerts", "unsilence", silence.id])
    assert ended.exit_code == 0, ended.output
    again = runner.invoke(cli, ["--config", str(config), "alerts", "unsilence", silence.id])
    assert again.exit_code == 2 and "no active silence" in again.output
    bad = runner.invoke(cli, ["--config", str(config), "alerts", "silence", "--for", "soon",
                              "--rule", "x"])
    assert bad.exit_code == 2 and "--for 'soon'" in bad.output


def test_check_config_names_file_rule_and_key_of_a_broken_rule(tmp_path: Path) -> None:
    rules = tmp_path / "bad-rules.yaml"
    rules.write_text(yaml.safe_dump({"rules": [
        {"name": "backref", "when": {"regex": ["(x)\\1"]}}]}))
    config = write_config(tmp_path, extra={"rules_file": str(rules)})
    result = run_monitor(config, "check-config")
    assert result.returncode == 1  # problems found (2 is a usage error)
    assert "Traceback" not in result.stderr
    assert f"{rules}: rules[0](backref).when.regex[0]: " in result.stderr


@pytest.mark.kafka
def test_on_kafka_a_silence_is_kept_on_its_topic_for_every_machine(
    tmp_path: Path, kafka_bootstrap: str, kafka_topics: KafkaTopics
) -> None:
    """Made on one machine's command line, listed and ended on another's (each its
    own state folder), and followed by an alerts process's silences."""
    bus = kafka_topics.bus_config(kafka_bootstrap)
    here, there = (write_config(tmp_path / name, bus=bus) for name in ("here", "there"))
    runner = CliRunner()
    made = runner.invoke(cli, ["--config", str(here), "alerts", "silence", "--rule",
                               "election-result-disputed", "--for", "1h"])
    assert made.exit_code == 0, made.output
    silence_id = made.output.split()[1]
    listed = runner.invoke(cli, ["--config", str(there), "alerts", "silences"])
    assert listed.output.startswith(silence_id), listed.output
    settings = KafkaSettings(bootstrap_servers=(kafka_bootstrap,))
    follower = SilenceTopic(KafkaBus(settings), kafka_topics.names.alerts_silences,
                            follow_group=kafka_topics.group("stories"))
    try:
        assert [s.rule for s in follower.active(time.time())] == ["election-result-disputed"]
        ended = runner.invoke(cli, ["--config", str(there), "alerts", "unsilence", silence_id])
        assert ended.exit_code == 0, ended.output
        wait_for(lambda: follower.active(time.time()) == [], 30, "the silence ended")
    finally:
        follower.close()
    assert not SilenceStore.in_dir(tmp_path / "here" / "state").active(0)  # not the file
