"""The alerts CLI: list, silence, and check-config on a broken rules file."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from monitor.alerts.silences import SilenceStore
from monitor.alerts.store import AlertStore
from monitor.cli import cli
from tests.alerts.test_delivery import alerts_from_fixture
from tests.support import run_monitor, write_config


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
