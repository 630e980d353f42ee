"""Top-level commands: ``monitor run`` and ``monitor check-config``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial

import click

from monitor.cli import CliState, obtain_settings, parse_roles
from monitor.config import Settings
from monitor.daemon import Daemon
from monitor.errors import ConfigError, ConfigProblem
from monitor.ops.logs import configure_logging


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
@click.pass_context
def check_config_command(ctx: click.Context) -> None:
    """Validate monitor.yaml, feeds.yaml, rules.yaml and the NLP lexicons."""
    settings = obtain_settings(ctx)  # ConfigError → every problem, one per line
    problems = deep_check(settings)
    if problems:
        raise ConfigError(problems)
    click.echo(
        f"ok: {len(settings.feeds)} feeds, rules in {settings.rules_file}, "
        f"roles {','.join(settings.roles)}, bus {settings.bus.kind}"
    )


def deep_check(settings: Settings) -> list[ConfigProblem]:
    """Load what roles load at start (rules, lexicons) and collect their problems."""
    from monitor.alerts.rules import load_rules
    from monitor.nlp.lexicon import load_lexicon

    problems: list[ConfigProblem] = []
    folders = [settings.nlp.lexicon_folder(lang) for lang in ("en", *settings.nlp.lexicons)]
    checks: list[Callable[[], object]] = [partial(load_rules, settings.rules_file)]
    checks += [partial(load_lexicon, settings.config_dir / folder) for folder in folders]
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems
