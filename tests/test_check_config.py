"""``monitor check-config``: the checks ``run`` runs, every file's problems in one run.

Exit codes: 0 valid (warnings allowed), 1 problems found, 2 usage.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from monitor.cli import cli
from tests.support import CONFIG_DIR, run_monitor, write_config


def check_config(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "check-config", *args], env=env)


def errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_an_unset_secret_env_is_a_problem_as_it_is_for_run(tmp_path: Path) -> None:
    config = write_config(tmp_path, feeds=[("one", "http://127.0.0.1:1/feed.xml")])
    data = yaml.safe_load(config.read_text())
    data["alerts"]["receivers"] = [
        {"name": "desk", "url": "https://hooks.example/a", "secret_env": "NO_SUCH_KEY_VAR"}
    ]
    config.write_text(yaml.safe_dump(data))
    result = check_config(config, env={"NO_SUCH_KEY_VAR": ""})
    assert result.exit_code == 1, result.output
    assert errors(result) == [
        "error: environment: alerts.receivers[0].secret_env: "
        "variable NO_SUCH_KEY_VAR is not set or empty"
    ]
    run = run_monitor(config, "run", "--once", env={"NO_SUCH_KEY_VAR": ""})
    assert run.returncode == 2 and "alerts.receivers[0].secret_env" in run.stderr


def test_every_file_is_checked_in_one_run_with_one_index_style(tmp_path: Path) -> None:
    rules = tmp_path / "bad-rules.yaml"
    rules.write_text(yaml.safe_dump({"rules": [{"name": "r", "when": {"regex": ["(x)\\1"]}}]}))
    config = write_config(tmp_path, extra={"rules_file": str(rules), "bus": {"kind": "pigeon"}})
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - id: one\n    url: ftp://x\n    colour: red\n")
    result = check_config(config)
    assert result.exit_code == 1, result.output
    lines = errors(result)
    assert f"error: {config}: bus.kind: " in lines[0]
    assert any(f"{tmp_path / 'feeds.yaml'}: feeds[0].url: " in line for line in lines)
    assert f"error: {tmp_path / 'feeds.yaml'}: feeds[0].colour: unknown key" in lines
    assert any(f"{rules}: rules[0](r).when.regex[0]: " in line for line in lines), lines
    assert not any(".0." in line or ".0:" in line for line in lines), lines
    assert "problem(s) in 3 source(s)" in result.stderr


def test_kafka_sharing_on_the_embedded_bus_is_a_problem(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra={"poller": {"sharing": "kafka"}})
    result = check_config(config)
    assert result.exit_code == 1
    assert errors(result) == [
        f"error: {config}: poller.sharing: sharing 'kafka' needs bus.kind 'kafka'"
    ]


def test_the_files_checked_are_named_and_a_valid_config_exits_0(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, feeds=[("one", "https://news.example/feed.xml")], receivers=["https://h.example/"]
    )
    result = check_config(config)
    assert result.exit_code == 0, result.output
    checked = [line.removeprefix("checked ") for line in result.stdout.splitlines()[:-1]]
    assert checked[:2] == [str(config), str(tmp_path / "feeds.yaml")]
    assert str(CONFIG_DIR / "rules.yaml") in checked
    assert str(CONFIG_DIR / "nlp") in checked and str(CONFIG_DIR / "nlp" / "es") in checked
    assert result.stdout.splitlines()[-1].startswith("ok: 1 feeds, 1 receivers")
    assert result.stderr == ""


def test_no_feeds_no_receivers_and_refused_feed_urls_are_warned_about(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra={"poller": {"allow_private_addresses": False}})
    result = check_config(config)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path / 'feeds.yaml'}: feeds: no feeds: the poller polls nothing",
        f"warning: {config}: alerts.receivers: no receivers: alerts are recorded but "
        "delivered nowhere",
    ]
    feeds = [("loop", "http://127.0.0.1:8080/a.xml"), ("name", "http://localhost/b.xml"),
             ("fine", "https://news.example/feed.xml")]  # fmt: skip
    config = write_config(
        tmp_path, feeds=feeds, receivers=["https://h.example/"],
        extra={"poller": {"allow_private_addresses": False}},
    )  # fmt: skip
    warned = check_config(config).stderr.splitlines()
    assert [line.split(": ")[2] for line in warned] == ["feeds[0].url", "feeds[1].url"]
    assert all("poller.allow_private_addresses" in line for line in warned)
    assert all("poller.allowed_private_hosts" in line for line in warned)
    allowed = write_config(
        tmp_path, feeds=feeds, receivers=["https://h.example/"],
        extra={"poller": {"allow_private_addresses": False,
                          "allowed_private_hosts": ["127.0.0.1", "localhost"]}},
    )  # fmt: skip
    assert check_config(allowed).stderr == ""


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert check_config(config, "--roles", "oracle").exit_code == 2
    assert check_config(config, "--no-such-option").exit_code == 2


def test_json_report_and_progress_while_loading(tmp_path: Path) -> None:
    import json

    from monitor.validation import check

    config = write_config(tmp_path, extra={"poller": {"sharing": "kafka"}})
    result = check_config(config, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["files"][0] == str(config)
    assert report["problems"] == [
        {"source": str(config), "key": "poller.sharing",
         "message": "sharing 'kafka' needs bus.kind 'kafka'"}
    ]  # fmt: skip
    seen: list[tuple[int, int, str]] = []
    check(config, ("nlp",), {}, lambda n, total, what: seen.append((n, total, what)))
    assert [n for n, _, _ in seen] == [1, 2, 3] and {t for _, t, _ in seen} == {3}
    assert seen[0][2].endswith("nlp")
