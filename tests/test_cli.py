"""Bad input at the command line ends in one clear line, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.support import CONFIG_DIR, free_port, run_monitor, write_config


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert errors, stderr
    for fragment in fragments:
        assert any(fragment in line for line in errors), (fragment, stderr)


def test_shipped_configuration_is_valid() -> None:
    result = run_monitor(CONFIG_DIR / "monitor.yaml", "check-config")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("ok:")


def test_missing_config_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = run_monitor(missing, "check-config")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, f"{missing}: file not found")


def test_invalid_config_lists_every_problem(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra={"bus": {"kind": "carrier-pigeon"}, "roles": ["spy"]})
    result = run_monitor(config, "check-config")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "bus.kind", "roles[0]")


def test_unknown_role_is_a_usage_error(tmp_path: Path) -> None:
    result = run_monitor(write_config(tmp_path), "run", "--once", "--roles", "poller,oracle")
    assert result.returncode == 2
    assert "unknown role(s) oracle" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_broker_fails_fast_with_one_line(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        bus={"kind": "kafka", "kafka": {"bootstrap_servers": f"127.0.0.1:{free_port()}"}},
    )
    result = run_monitor(config, "run", "--once", "--roles", "nlp", timeout=60)
    assert result.returncode == 1  # a runtime failure, not a usage error
    assert_one_line_error(result.stderr, "no broker answered")


def test_unreachable_feed_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, feeds=[("deadfeed", f"http://127.0.0.1:{free_port()}/feed.xml")]
    )
    result = run_monitor(config, "run", "--once", "--roles", "poller")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "deadfeed" in output


def command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand of ``monitor``, as the words that invoke it."""
    import click

    from monitor.cli import cli

    found: list[tuple[str, ...]] = [()]

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, name
            found.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli, ())
    return found


def test_dash_h_is_help_on_monitor_and_every_subcommand() -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    paths = command_paths()
    assert ("feeds", "status") in paths and ("run",) in paths
    runner = CliRunner()
    for path in paths:
        short = runner.invoke(cli, [*path, "-h"])
        long = runner.invoke(cli, [*path, "--help"])
        assert short.exit_code == 0, (path, short.output)
        assert short.output == long.output, path
        assert short.output.startswith("Usage: "), path
        assert "-h, --help" in short.output, path


def test_dash_h_through_the_entry_point() -> None:
    """``main()``, as the console script runs it (here via ``python -m monitor``)."""
    result = run_monitor(None, "-h")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert "-h, --help" in result.stdout and "check-config" in result.stdout
