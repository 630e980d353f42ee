"""The ``monitor`` command line.

Subcommands owned by a role package live in that package's ``commands``
module and are imported only when used, so ``monitor check-config`` does not
pay for spaCy. Every failure ends in one ``error: …`` line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from monitor.config import Settings, load_settings
from monitor.errors import ConfigError, MonitorError
from monitor.roles import ROLE_NAMES

#: Subcommand name → "module:attribute" of a click command or group.
LAZY_COMMANDS: dict[str, str] = {
    "run": "monitor.commands:run_command",
    "check-config": "monitor.commands:check_config_command",
    "demo": "monitor.demo:demo_command",
    "tag": "monitor.nlp.commands:tag_command",
    "parse-feed": "monitor.feeds.commands:parse_feed_command",
    "feeds": "monitor.feeds.commands:feeds_group",
    "alerts": "monitor.alerts.commands:alerts_group",
    "rules": "monitor.alerts.commands:rules_group",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LAZY_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@dataclass
class CliState:
    """Per-invocation state: where config lives, loaded at most once."""

    config_path: Path | None
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings


def obtain_settings(ctx: click.Context) -> Settings:
    """The loaded settings for this invocation (honours ``--config``)."""
    state = ctx.find_object(CliState)
    if state is None:  # a command invoked on its own, e.g. from tests
        state = CliState(config_path=None)
        ctx.obj = state
    return state.settings()


def parse_roles(value: str) -> tuple[str, ...]:
    """``"poller,nlp"`` → ("poller", "nlp"); unknown names are a usage error."""
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [n for n in names if n not in ROLE_NAMES]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown role(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(ROLE_NAMES)}"
        )
    return names


#: ``-h`` as well as ``--help``; click hands it down to every subcommand's context.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Path to monitor.yaml (default: $MONITOR_CONFIG or ./config/monitor.yaml).",
)
@click.version_option(package_name="news-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """News monitor: feeds → Kafka → NLP → alerts on elections and foreign interference."""
    ctx.obj = CliState(config_path=config_path)


#: Exit codes of every command: 0 done, 1 a runtime failure (a feed that could
#: not be read, a broker or daemon that did not answer, problems found by
#: check-config), 2 usage (unknown option or value, a config that does not
#: validate, so nothing was tried).
EXIT_FAILURE, EXIT_USAGE = 1, 2


def main() -> None:
    """Console-script entry point: map every failure to one line and an exit code."""
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    except KeyboardInterrupt:
        sys.exit(130)
