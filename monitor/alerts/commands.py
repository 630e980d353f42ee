"""CLI: ``monitor alerts list|replay|silence`` and ``monitor rules backtest``.

``replay`` and ``backtest`` read topic history, which only a Kafka bus keeps
between processes; on the embedded bus they find nothing to read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from monitor.alerts.backtest import backtest, replay
from monitor.alerts.rules import load_rules
from monitor.alerts.state import StateStore
from monitor.alerts.store import AlertStore, StoredAlert
from monitor.bus import open_bus
from monitor.cli import obtain_settings
from monitor.clock import SystemClock, iso_utc
from monitor.config import BusSettings
from monitor.ops.metrics import Metrics

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@click.group("alerts")
def alerts_group() -> None:
    """Alert history, dead-letter replay and silences."""


@alerts_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--search", "query", default=None, help="Only alerts whose text or rule has this.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def list_command(ctx: click.Context, limit: int, query: str | None, as_json: bool) -> None:
    """Show the newest alerts from the local history store."""
    settings = obtain_settings(ctx)
    store = AlertStore.in_dir(settings.state_dir)
    try:
        found = store.search(query, limit) if query else store.recent(limit)
    finally:
        store.close()
    for item in found:
        click.echo(_as_json(item) if as_json else _as_line(item))
    if not found and not as_json:
        click.echo("no alerts", err=True)


def _as_line(item: StoredAlert) -> str:
    alert = item.alert
    deliveries = ",".join(f"{k}={v}" for k, v in sorted(item.deliveries.items())) or "pending"
    text = alert.statement.text if len(alert.statement.text) <= 120 else (
        alert.statement.text[:117] + "...")
    return (f"{alert.created_at} {alert.severity:<8} {alert.rule} {alert.id} "
            f"sources={len(alert.sources)} [{deliveries}] {text} <{alert.article.url}>")


def _as_json(item: StoredAlert) -> str:
    alert = item.alert
    return json.dumps({
        "id": alert.id, "rule": alert.rule, "severity": alert.severity,
        "created_at": alert.created_at, "text": alert.statement.text,
        "url": alert.article.url, "sources": [s.entry_url or s.feed_id for s in alert.sources],
        "deliveries": item.deliveries,
    }, ensure_ascii=False)


def from_the_start(bus: BusSettings) -> BusSettings:
    """The bus settings with new consumer groups starting at the oldest record.

    Backtest and replay read history with groups of their own; with
    ``auto_offset_reset: latest`` such a group would start past every record
    already stored and find nothing.
    """
    kafka = bus.kafka.model_copy(update={"auto_offset_reset": "earliest"})
    return bus.model_copy(update={"kafka": kafka})


@alerts_group.command("replay")
@click.option("--receiver", default=None, help="Send to this receiver, not the failed one.")
@click.option("--max-attempts", default=None, type=click.IntRange(1, 1000),
              help="Retry budget per alert for this replay.")
@click.pass_context
def replay_command(ctx: click.Context, receiver: str | None, max_attempts: int | None) -> None:
    """Re-send alerts from the alerts dead-letter topic."""
    settings = obtain_settings(ctx)
    names = [r.name for r in settings.alerts.receivers]
    if receiver is not None and receiver not in names:
        raise click.BadParameter(f"unknown receiver {receiver!r}; configured: {', '.join(names)}")
    bus = open_bus(from_the_start(settings.bus))
    try:
        count = replay(settings, bus, Metrics(), SystemClock(), receiver=receiver,
                       max_attempts=max_attempts)
    finally:
        bus.close()
    click.echo(f"replayed {count} dead-lettered alert(s)")


@alerts_group.command("silence")
@click.option("--rule", default=None, help="Silence this rule.")
@click.option("--label", "labels", multiple=True, help="key=value; all must match.")
@click.option("--for", "duration", default="2h", show_default=True, help="e.g. 30m, 2h, 1d.")
@click.option("--comment", default="")
@click.pass_context
def silence_command(
    ctx: click.Context, rule: str | None, labels: tuple[str, ...], duration: str, comment: str
) -> None:
    """Stop raising matching alerts for a while."""
    match = _DURATION.match(duration.strip())
    if match is None:
        raise click.BadParameter(f"--for {duration!r}: use a number and s, m, h or d")
    pairs = {}
    for label in labels:
        key, sep, value = label.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"--label {label!r}: use key=value")
        pairs[key] = value
    if rule is None and not pairs:
        raise click.UsageError("give --rule or at least one --label")
    settings = obtain_settings(ctx)
    now = SystemClock().now()
    ends = now + float(match.group(1)) * _UNITS[match.group(2)]
    state = StateStore.in_dir(settings.state_dir)
    try:
        silence = state.add_silence(now, ends, rule, pairs, comment)
    finally:
        state.close()
    click.echo(f"silence {silence.id} until {iso_utc(ends)}")


@alerts_group.command("silences")
@click.pass_context
def silences_command(ctx: click.Context) -> None:
    """List silences that have not ended."""
    settings = obtain_settings(ctx)
    state = StateStore.in_dir(settings.state_dir)
    try:
        active = state.silences(SystemClock().now())
    finally:
        state.close()
    for s in active:
        labels = ",".join(f"{k}={v}" for k, v in s.labels) or "-"
        click.echo(f"{s.id} {iso_utc(s.starts)}..{iso_utc(s.ends)} rule={s.rule or '*'} "
                   f"labels={labels} {s.comment}")
    if not active:
        click.echo("no active silences", err=True)


@alerts_group.command("unsilence")
@click.argument("silence_id")
@click.pass_context
def unsilence_command(ctx: click.Context, silence_id: str) -> None:
    """End a silence now."""
    settings = obtain_settings(ctx)
    state = StateStore.in_dir(settings.state_dir)
    try:
        ended = state.expire_silence(silence_id, SystemClock().now())
    finally:
        state.close()
    if not ended:
        raise click.BadParameter(f"no active silence {silence_id!r}")
    click.echo(f"silence {silence_id} ended")


@click.group("rules")
def rules_group() -> None:
    """Alert rules tools."""


@rules_group.command("backtest")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Rules file to try (default: the configured one).")
@click.option("--samples", default=3, show_default=True, type=click.IntRange(0, 100))
@click.option("--limit", default=None, type=click.IntRange(1), help="Read at most N articles.")
@click.pass_context
def backtest_command(
    ctx: click.Context, rules_path: Path | None, samples: int, limit: int | None
) -> None:
    """Run rules over stored statements and report per-rule counts; sends nothing."""
    settings = obtain_settings(ctx)
    rules = load_rules(rules_path or settings.rules_file)
    bus = open_bus(from_the_start(settings.bus))
    try:
        report = backtest(rules, bus, settings.bus.topics.statements, samples=samples,
                          limit=limit)
    finally:
        bus.close()
    click.echo(f"{report.articles} articles, {report.statements} statements"
               + (f", {report.undecodable} undecodable" if report.undecodable else ""))
    for name, count in sorted(report.hits.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"{count:>7}  {name}")
        for sample in report.samples.get(name, []):
            click.echo(f"         - {sample}")
