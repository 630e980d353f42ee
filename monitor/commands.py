"""Top-level commands: ``monitor run`` and ``monitor check-config``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

import click

from monitor.cli import CliState, obtain_settings, parse_roles
from monitor.config import Settings
from monitor.daemon import Daemon
from monitor.errors import ConfigProblem
from monitor.ops.logs import configure_logging
from monitor.validation import CheckReport, Progress, check, raise_problems, role_problems


@click.command("run")
@click.option(
    "--roles",
    "roles_text",
    default=None,
    help="Comma-separated roles to run here: poller,nlp,alerts (default: config `roles`).",
)
@click.option("--once", is_flag=True, help="Process what is available now, then exit.")
@click.pass_context
def run_command(ctx: click.Context, roles_text: str | None, once: bool) -> None:
    """Run the monitor daemon (or one pass of it with --once)."""
    settings = obtain_settings(ctx)
    roles = parse_roles(roles_text) if roles_text else settings.roles
    raise_problems(role_problems(settings, roles, os.environ)[1])  # as check-config does
    configure_logging(settings.ops, stream=sys.stdout)
    state = ctx.find_object(CliState)
    daemon = Daemon(settings, roles, config_path=state.config_path if state else None)
    if once:
        try:
            handled = daemon.run_once()
        finally:
            daemon.close()
        click.echo(f"handled {handled} items", err=True)
        return
    from monitor.ops.server import start_ops_server  # the HTTP side only for the daemon

    server = start_ops_server(daemon) if settings.ops.http_enabled else None
    try:
        code = daemon.run()
    finally:
        if server is not None:
            server.close()
    sys.exit(code)


@click.command("check-config")
@click.option(
    "--roles",
    "roles_text",
    default=None,
    help="Check what these roles load (default: config `roles`).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON report on stdout.")
@click.pass_context
def check_config_command(ctx: click.Context, roles_text: str | None, as_json: bool) -> None:
    """Validate monitor.yaml, feeds.yaml, rules, lexicons and receivers' secrets.

    Runs the checks `monitor run` runs at start, reports every problem of
    every file, one per line, and warns about feeds that will be refused and
    a config with no feeds or no receivers. Exit 0: valid; 1: problems found;
    2: usage.
    """
    state = ctx.find_object(CliState)
    roles = parse_roles(roles_text) if roles_text else None
    report = check(state.config_path if state else None, roles, os.environ, _progress())
    if as_json:
        click.echo(json.dumps(report_json(report), indent=1))
        sys.exit(1 if report.problems else 0)
    for path in report.files:
        click.echo(f"checked {path}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    if report.problems:
        files = {p.source for p in report.problems}
        click.echo(f"{len(report.problems)} problem(s) in {len(files)} source(s)", err=True)
        sys.exit(1)
    settings = report.settings
    click.echo(
        f"ok: {len(settings.feeds)} feeds, {len(settings.alerts.receivers)} receivers, "
        f"rules in {settings.rules_file}, roles {','.join(roles or settings.roles)}, "
        f"bus {settings.bus.kind}"
        + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
    )


def report_json(report: CheckReport) -> dict[str, object]:
    """``check-config --json``: the files, problems and warnings as data."""

    def rows(found: Sequence[ConfigProblem]) -> list[dict[str, str]]:
        return [{"source": p.source, "key": p.key, "message": p.message} for p in found]

    return {
        "ok": not report.problems,
        "files": [str(path) for path in report.files],
        "problems": rows(report.problems),
        "warnings": rows(report.warnings),
        "feeds": len(report.settings.feeds),
        "receivers": len(report.settings.alerts.receivers),
    }


def _progress() -> Progress | None:
    """Progress lines on stderr while lexicons and rules load, when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(number: int, total: int, subject: str) -> None:
        click.echo(f"[{number}/{total}] loading {subject}", err=True)

    return show


def deep_check(settings: Settings) -> list[ConfigProblem]:
    """Every problem the config's roles would meet at start (see monitor.validation)."""
    return role_problems(settings, settings.roles, os.environ)[1]
