"""CLI: ``monitor alerts list|replay|silence`` and ``monitor rules test|backtest``.

``replay`` reads topic history, which only a Kafka bus keeps between
processes. ``rules backtest`` reads the statements topic on Kafka and the
local statement history (:mod:`monitor.nlp.history`) on the embedded bus.
``rules`` commands end a failure with one ``error: …`` line on stderr: exit 1
when it happened at run time (missing file, bad rules, empty history), 2 for
a usage error.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from monitor.alerts.backtest import BacktestReport, Simulation, backtest, replay, topic_records
from monitor.alerts.listing import as_json as _as_json
from monitor.alerts.listing import as_line as _as_line
from monitor.alerts.rules import RuleSet, load_rules
from monitor.alerts.silences import Silences, silences_for
from monitor.alerts.store import AlertStore
from monitor.alerts.trying import try_rules, verdicts_as_json, verdicts_as_table
from monitor.bus import open_bus
from monitor.cli import obtain_settings
from monitor.clock import SystemClock, iso_utc
from monitor.config import BusSettings, Settings
from monitor.errors import ConfigError
from monitor.messages import ArticleRef
from monitor.nlp.history import StatementHistory
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
    """Show the newest story notifications (or alerts) from the local history store."""
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


@contextmanager
def silences_of(settings: Settings) -> Iterator[Silences]:
    """The deployment's silences (on Kafka: its topic, through a bus opened here)."""
    bus = open_bus(settings.bus) if settings.bus.kind == "kafka" else None
    store = silences_for(settings, bus)
    try:
        yield store
    finally:
        store.close()
        if bus is not None:
            bus.close()


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
    with silences_of(settings) as store:
        silence = store.add(now, ends, rule, pairs, comment)
    click.echo(f"silence {silence.id} until {iso_utc(ends)}")


@alerts_group.command("silences")
@click.pass_context
def silences_command(ctx: click.Context) -> None:
    """List silences that have not ended."""
    settings = obtain_settings(ctx)
    with silences_of(settings) as store:
        active = store.active(SystemClock().now())
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
    with silences_of(settings) as store:
        ended = store.expire(silence_id, SystemClock().now())
    if not ended:
        raise click.BadParameter(f"no active silence {silence_id!r}")
    click.echo(f"silence {silence_id} ended")


@click.group("rules")
def rules_group() -> None:
    """Try alert rules: on one text (test) or on stored statements (backtest)."""


def _fail(message: str) -> NoReturn:
    """One ``error:`` line on stderr and exit status 1 (a run-time failure)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _rules(path: Path) -> RuleSet:
    try:
        return load_rules(path)
    except ConfigError as exc:
        more = len(exc.problems) - 1
        hint = f" (+{more} more: `monitor check-config` lists them)" if more else ""
        _fail(f"{exc.problems[0] if exc.problems else path}{hint}")


def _read_text(path: str) -> str:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        _fail(f"{path}: {exc.strerror or exc}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail(f"{'<stdin>' if path == '-' else path}: not UTF-8 text "
              f"(bad byte at offset {exc.start})")


_RULES_OPTION = click.option(
    "--rules", "rules_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Rules file to try (default: the configured one).")


@rules_group.command("test")
@click.argument("path", required=False, default="-")
@_RULES_OPTION
@click.option("--language", default=None, help="The text's declared language (a hint).")
@click.option("--feed", "feed_id", default="-", help="Feed id the text comes from (feeds rules).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@click.pass_context
def test_command(
    ctx: click.Context, path: str, rules_path: Path | None, language: str | None,
    feed_id: str, as_json: bool,
) -> None:
    """Tag a text from PATH or stdin ("-") as `monitor tag` does, and show for
    each rule whether it fires, on which statements and words, or what it lacked."""
    from monitor.nlp.multilingual import MultilingualTagger  # spaCy: only when used

    settings = obtain_settings(ctx)
    rules_file = rules_path or settings.rules_file
    rules = _rules(rules_file)
    text = _read_text(path)
    tagger = MultilingualTagger.from_settings(settings.nlp, settings.config_dir)
    result = tagger.tag(text, None, language)
    article = ArticleRef(id="rules-test", url="" if path == "-" else Path(path).as_uri(),
                         title=text.split("\n", 1)[0], feed_id=feed_id,
                         language=result.language)
    verdicts = try_rules(rules, result.statements, article)
    if as_json:
        document = verdicts_as_json(verdicts, result.language, len(result.statements),
                                 str(rules_file))
        click.echo(json.dumps(document, ensure_ascii=False))
        return
    for line in verdicts_as_table(verdicts, result.language, len(result.statements)):
        click.echo(line)


class ProgressLine:
    """Articles read so far, on stderr at most once a second (long runs only)."""

    def __init__(self, every_s: float = 1.0) -> None:
        self._every = every_s
        self._next = time.monotonic() + every_s
        self._shown = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._every
        of = f" of {total:,}" if total is not None else ""
        click.echo(f"\rbacktest: {done:,}{of} articles read", err=True, nl=False)
        self._shown = True

    def end(self) -> None:
        if self._shown:
            click.echo("", err=True)


@rules_group.command("backtest")
@_RULES_OPTION
@click.option("--samples", default=3, show_default=True, type=click.IntRange(0, 100),
              help="Example statements shown per rule.")
@click.option("--limit", default=None, type=click.IntRange(1), help="Read at most N articles.")
@click.option("--from", "source", type=click.Choice(["auto", "history", "topic"]),
              default="auto", show_default=True,
              help="history: the local statement history; topic: the statements topic "
                   "(Kafka); auto: the topic when bus.kind is kafka, else the history.")
@click.pass_context
def backtest_command(
    ctx: click.Context, rules_path: Path | None, samples: int, limit: int | None, source: str
) -> None:
    """Run rules over stored statements and report, per rule, the statements it
    fires on, stories, notifications it would send and examples; sends nothing."""
    settings = obtain_settings(ctx)
    rules = _rules(rules_path or settings.rules_file)
    if source == "auto":
        source = "topic" if settings.bus.kind == "kafka" else "history"
    if source == "topic" and settings.bus.kind != "kafka":
        raise click.UsageError("--from topic needs bus.kind: kafka (the embedded bus keeps "
                               "nothing between processes); use --from history")
    interval = settings.alerts.group_interval_s
    simulation = Simulation(rules, settings.alerts, samples=samples)
    progress = ProgressLine()
    try:
        if source == "history":
            report = _from_history(settings, simulation, limit, progress)
        else:
            report = _from_topic(settings, simulation, limit, progress)
    finally:
        progress.end()
    for line in _report_lines(report, interval):
        click.echo(line)


def _from_history(
    settings: Settings, simulation: Simulation, limit: int | None, progress: ProgressLine
) -> BacktestReport:
    path = StatementHistory.path_in(settings.state_dir)
    kept = settings.nlp.history
    if not path.exists():
        _fail(f"no statement history at {path}: the NLP role records one while `monitor run` "
              "runs (nlp.history in docs); run the monitor first, or --from topic on Kafka")
    history = StatementHistory(path, readonly=True)
    try:
        span = history.span()
        if not span.articles:
            _fail(f"the statement history at {path} is empty: nothing to backtest yet; it "
                  "fills while `monitor run` tags articles with at least one statement")
        assert span.first is not None and span.last is not None
        click.echo(f"source: local statement history {path}: {span.articles:,} articles, "
                   f"{span.statements:,} statements recorded {iso_utc(span.first)} .. "
                   f"{iso_utc(span.last)} (kept {kept.retention_days:g} days, at most "
                   f"{kept.max_articles:,} articles"
                   + ("; recording is off: nlp.history.enabled" if not kept.enabled else "")
                   + ")")
        total = min(span.articles, limit) if limit else span.articles
        return backtest(simulation, history.read(), limit=limit, total=total, progress=progress)
    finally:
        history.close()


def _from_topic(
    settings: Settings, simulation: Simulation, limit: int | None, progress: ProgressLine
) -> BacktestReport:
    topic = settings.bus.topics.statements
    servers = ",".join(settings.bus.kafka.bootstrap_servers)
    click.echo(f"source: Kafka topic {topic} on {servers}")
    bus = open_bus(from_the_start(settings.bus))
    try:
        report = backtest(simulation, topic_records(bus, topic), limit=limit, progress=progress)
    finally:
        bus.close()
    if not report.articles and not report.undecodable:
        _fail(f"Kafka topic {topic} holds no statements (retention may have removed them, "
              "or nothing has been tagged yet)")
    return report


def _report_lines(report: BacktestReport, interval: float) -> list[str]:
    lines = [f"{report.articles} articles, {report.statements} statements"
             + (f", {report.undecodable} undecodable" if report.undecodable else ""),
             f"{report.stories} stories, {report.notifications} notifications would be sent "
             f"({report.revisions} revisions; group_interval_s {interval:g})"]
    width = max([len(name) for name in report.rules] + [4])
    lines.append(f"{'rule':<{width}}  statements  stories  notifications")
    ranked = sorted(report.rules.items(), key=lambda kv: (-kv[1].statements, kv[0]))
    for name, count in ranked:
        lines.append(f"{name:<{width}}  {count.statements:>10}  {len(count.stories):>7}  "
                     f"{count.notifications:>13}")
        for example in count.examples:
            words = ", ".join(f'"{w}"' for w in example.words)
            lines.append(f"    - {example.text} <{example.url}>"
                         + (f" (words: {words})" if words else ""))
    return lines
