"""Configuration loads once, merges the environment, and names every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_settings, packaged_config_dir
from monitor.errors import ConfigError


def write_config(folder: Path, monitor: str, feeds: str = "feeds: []\n") -> Path:
    (folder / "feeds.yaml").write_text(feeds)
    path = folder / "monitor.yaml"
    path.write_text(monitor)
    return path


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ or {})
    return [str(p) for p in caught.value.problems]


def test_defaults_and_resolved_paths(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "roles: [nlp]\n",
        "feeds:\n  - id: one\n    url: https://news.example/feed.xml\n",
    )
    settings = load_settings(path, environ={})
    assert settings.roles == ("nlp",)
    assert settings.bus.kind == "embedded"
    assert settings.rules_file == packaged_config_dir() / "rules.yaml"  # none beside it
    assert settings.config_dir == tmp_path
    assert settings.state_dir.is_absolute()
    assert [f.id for f in settings.feeds] == ["one"]


def test_environment_overrides_single_keys(tmp_path: Path) -> None:
    path = write_config(tmp_path, "bus:\n  kind: embedded\n")
    settings = load_settings(
        path,
        environ={
            "MONITOR_BUS__KIND": "kafka",
            "MONITOR_BUS__KAFKA__BOOTSTRAP_SERVERS": "10.0.0.1:9092,10.0.0.2:9092",
            "MONITOR_ROLES": "poller,alerts",
            "MONITOR_TEST_KAFKA": "ignored",
        },
    )
    assert settings.bus.kind == "kafka"
    assert settings.bus.kafka.bootstrap_servers == ("10.0.0.1:9092", "10.0.0.2:9092")
    assert settings.roles == ("poller", "alerts")


def test_env_references_fill_secrets(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "alerts:\n  receivers:\n    - name: hook\n      url: https://hooks.example/a\n"
        "      secret: ${HOOK_SECRET}\n",
    )
    settings = load_settings(path, environ={"HOOK_SECRET": "s3cret"})
    secret = settings.alerts.receivers[0].secret
    assert secret is not None and secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_every_problem_is_reported_with_file_and_key(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "bus:\n  kind: rabbit\nops:\n  http_port: 99999\nmystery: 1\n",
        "feeds:\n  - id: ok\n    url: ftp://nope.example/\n",
    )
    found = problems_of(path)
    assert f"{path}: bus.kind: Input should be 'embedded' or 'kafka'" in found
    assert any(p.startswith(f"{path}: ops.http_port:") for p in found)
    assert f"{path}: mystery: unknown key" in found


def test_feed_problems_name_the_feeds_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "{}\n", "feeds:\n  - id: bad id\n    url: ftp://x/\n")
    found = problems_of(path)
    assert any(p.startswith(f"{tmp_path / 'feeds.yaml'}: feeds[0].id:") for p in found)
    assert any(p.startswith(f"{tmp_path / 'feeds.yaml'}: feeds[0].url:") for p in found)


def test_env_problems_name_the_variable(tmp_path: Path) -> None:
    path = write_config(tmp_path, "{}\n")
    found = problems_of(path, {"MONITOR_OPS__HTTP_PORT": "many"})
    assert found[0].startswith("MONITOR_OPS__HTTP_PORT: ops.http_port:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bus: [unclosed\n", "invalid YAML at line"),
        ("- a list\n", "must be a mapping"),
        ("secret: ${NOT_SET_ANYWHERE}\n", "environment variable NOT_SET_ANYWHERE is not set"),
    ],
)
def test_unreadable_files_are_one_problem_each(tmp_path: Path, text: str, message: str) -> None:
    found = problems_of(write_config(tmp_path, text))
    assert any(message in p for p in found), found


def test_missing_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yaml")[0] == f"{tmp_path / 'nope.yaml'}: file not found"


def test_deep_nesting_is_one_problem_not_a_traceback(tmp_path: Path) -> None:
    found = problems_of(write_config(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert found == [f"{tmp_path / 'monitor.yaml'}: nested too deeply to be a config file"]


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    found = problems_of(write_config(tmp_path, "\n".join(lines) + "\n"))
    assert found == [f"{tmp_path / 'monitor.yaml'}: expands to more than 200000 values"]


def test_unknown_role_names_the_choices(tmp_path: Path) -> None:
    path = write_config(tmp_path, "roles: [nlp, oracle]\n")
    [found] = problems_of(path)
    assert found == f"{path}: roles[1]: unknown role oracle; choose from poller, nlp, alerts"


def test_kafka_sharing_on_the_embedded_bus_is_refused_when_settings_load(tmp_path: Path) -> None:
    path = write_config(tmp_path, "poller:\n  sharing: kafka\n")
    assert problems_of(path) == [f"{path}: poller.sharing: sharing 'kafka' needs bus.kind 'kafka'"]
    from_env = problems_of(write_config(tmp_path, "{}\n"), {"MONITOR_POLLER__SHARING": "kafka"})
    assert from_env == [
        "MONITOR_POLLER__SHARING: poller.sharing: sharing 'kafka' needs bus.kind 'kafka'"
    ]
    load_settings(
        write_config(tmp_path, "poller:\n  sharing: kafka\nbus:\n  kind: kafka\n"), environ={}
    )


def test_check_config_reports_a_cross_section_problem(tmp_path: Path) -> None:
    from tests.support import run_monitor

    path = write_config(tmp_path, "poller:\n  sharing: kafka\n")
    result = run_monitor(path, "check-config", env={"MONITOR_POLLER__SHARING": "kafka"})
    assert result.returncode != 0
    assert "poller.sharing: sharing 'kafka' needs bus.kind 'kafka'" in result.stderr
