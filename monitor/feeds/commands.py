"""Command-line entry points of the feeds package: ``parse-feed`` and ``feeds status``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click

from monitor.errors import ConfigError, MonitorError, PermanentError, RetryableError
from monitor.feeds.errors import BodyTooLarge, NotAFeed
from monitor.feeds.fetcher import FetchRequest, HttpxFetcher
from monitor.feeds.health import FeedHealth, read_health, shared_health
from monitor.feeds.model import ParsedFeed
from monitor.feeds.parsepool import PoolSettings, configure_shared_pool
from monitor.feeds.parsing import parse_feed
from monitor.feeds.poller import entry_article_id, unexpected
from monitor.feeds.settings import PollerSettings
from monitor.feeds.urls import is_web_url
from monitor.text import one_line

if TYPE_CHECKING:
    from monitor.config import Settings


@click.command("parse-feed")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--allow-private-addresses", is_flag=True,
    help="Allow URLs on loopback or private networks (refused by default).",
)
@click.pass_context
def parse_feed_command(
    ctx: click.Context, sources: tuple[str, ...], allow_private_addresses: bool
) -> None:
    """Parse feeds (paths or http(s) URLs) and print one JSON line per entry.

    Ill-formed feeds that could be recovered print a one-line warning on
    stderr. A source that is unreadable, refused or not a feed prints
    ``error: SOURCE: reason`` on stderr; the others are still parsed and the
    exit code is 2. Ids are the poller's: canonicalised with the ``poller``
    settings of the configuration (defaults, with a warning, when it does not load).
    """
    settings = _poller_settings(ctx).model_copy(
        update={"allow_private_addresses": allow_private_addresses}
    )
    configure_shared_pool(PoolSettings.from_poller(settings))
    fetcher: HttpxFetcher | None = None
    failed = False
    try:
        for source in sources:
            try:
                if is_web_url(source):
                    fetcher = fetcher or HttpxFetcher(settings, pool_size=4)
                    fetched = fetcher.fetch(FetchRequest(source))
                    parsed = parse_feed(fetched.body, fetched.headers)
                else:
                    parsed = parse_feed(_read_file(source, settings.max_body_bytes))
            except MonitorError as exc:
                failed = True
                click.echo(f"error: {source}: {one_line(exc)}", err=True)
                continue
            except Exception as exc:  # never a traceback for one bad source
                failed = True
                click.echo(f"error: {source}: {unexpected(exc)}", err=True)
                continue
            if parsed.warning:
                click.echo(f"warning: {source}: {parsed.warning}", err=True)
            for line in entry_lines(source, parsed, settings):
                click.echo(line)
    finally:
        if fetcher is not None:
            fetcher.close()
    if failed:
        raise SystemExit(1)  # a runtime failure; 2 is for usage errors


def _poller_settings(ctx: click.Context) -> PollerSettings:
    """The configuration's ``poller`` section, so ids match the poller's."""
    from monitor.cli import obtain_settings

    try:
        return obtain_settings(ctx).poller
    except ConfigError as exc:  # parsing does not need the config; only ids may differ
        problem = exc.problems[0] if exc.problems else "invalid"
        click.echo(f"warning: config not loaded ({problem}); ids use the default "
                   "canonicalisation", err=True)
        return PollerSettings()


def entry_lines(source: str, parsed: ParsedFeed, settings: PollerSettings) -> list[str]:
    """The JSON lines ``parse-feed`` prints for one parsed feed; ``id`` is the
    article id the poller would publish (with ``source`` as the feed id)."""
    lines = []
    for entry in parsed.entries:
        record = {
            "source": source,
            "id": entry_article_id(source, entry, settings),
            **dataclasses.asdict(entry),
            "url": entry.link,
            "feed_title": parsed.title,
            "feed_link": parsed.link,
            "feed_format": parsed.format,
        }
        del record["link"]
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def _read_file(source: str, cap: int) -> bytes:
    path = Path(source)
    try:
        with path.open("rb") as handle:
            body = handle.read(cap + 1)
    except OSError as exc:
        raise NotAFeed(f"cannot read: {exc.strerror or exc}") from exc
    if len(body) > cap:
        raise BodyTooLarge(f"file exceeds the {cap}-byte cap")
    return body


@click.group("feeds")
def feeds_group() -> None:
    """Inspect the poller's feeds."""


@feeds_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed.")
@click.pass_context
def feeds_status(ctx: click.Context, as_json: bool) -> None:
    """Print each feed's health: ok, degraded, broken (or pending before its first poll).

    When pollers share the feed list over Kafka (``bus.kind: kafka`` and
    ``poller.sharing: kafka``) the states are read from the feeds topic, so
    every poller's feeds are shown; otherwise from this machine's poller store.
    """
    from monitor.cli import obtain_settings

    settings = obtain_settings(ctx)
    rows, where = _health_rows(settings)
    titles = {feed.id: feed.title for feed in settings.feeds}
    if as_json:
        for row in rows:
            title = titles.get(row.feed_id, "")
            click.echo(json.dumps({**dataclasses.asdict(row), "title": title}))
        return
    if not rows:
        click.echo(f"no feed state in {where} yet (has a poller run?)")
        return
    for line in health_table(rows, titles):
        click.echo(line)


def _health_rows(settings: Settings) -> tuple[list[FeedHealth], str]:
    """The health rows for ``feeds status`` and where they were read from."""
    if settings.bus.kind == "kafka" and settings.poller.sharing == "kafka":
        from monitor.bus.kafka import KafkaBus  # the transport only when asked for
        from monitor.feeds.sharing import read_feed_records

        topic = settings.bus.topics.feeds
        bus = KafkaBus(settings.bus.kafka)
        try:
            entries = read_feed_records(bus, topic)
        finally:
            bus.close()
        return shared_health(entries, settings.poller.broken_after_failures), f"topic {topic}"
    return read_health(settings.state_dir), str(settings.state_dir)


def health_table(rows: list[FeedHealth], titles: Mapping[str, str] | None = None) -> list[str]:
    """The lines of the health table: a header, then one line per feed. A feed's
    last error is shown, with its time, only while it is failing."""
    titles = titles or {}
    header = ("FEED", "HEALTH", "FAILS", "LAST SUCCESS", "NEXT POLL", "TITLE", "LAST ERROR")
    table = [header] + [
        (r.feed_id, r.health, str(r.failures), r.last_success or "-", r.next_poll or "-",
         titles.get(r.feed_id) or "-",
         f"{r.last_error_at or '?'} {r.last_error}"[:100] if r.failures and r.last_error
         else "-")
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(line, widths, strict=False)),
                   line[-1]])
        for line in table
    ]


@feeds_group.command("poll-now")
@click.argument("feed_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Poll every feed the daemon polls.")
@click.option(
    "--url",
    default=None,
    help="The daemon's ops endpoint (default: http://ops.http_host:ops.http_port).",
)
@click.pass_context
def feeds_poll_now(ctx: click.Context, feed_ids: tuple[str, ...], every: bool, url: str | None
                   ) -> None:  # fmt: skip
    """Ask the running daemon to poll FEED… (or --all) now, ignoring schedule and backoff.

    Sent to the daemon's ops endpoint on this machine (POST /feeds/poll-now),
    with ops.http_token when one is set. Exit 0: the poller took them; 1: a
    feed it does not poll, or no daemon answered; 2: usage.
    """
    from monitor.cli import obtain_settings

    if every == bool(feed_ids):
        raise click.UsageError("name one or more feeds, or give --all (not both)")
    settings = obtain_settings(ctx)
    endpoint = url or ops_endpoint(settings)
    body: dict[str, object] = {"all": True} if every else {"feeds": list(feed_ids)}
    answer = _post_json(f"{endpoint}/feeds/poll-now", body, settings)
    polling, unknown = answer.get("polling", []), answer.get("unknown", [])
    if polling:
        click.echo(f"polling now: {', '.join(polling)}")
    if unknown:
        click.echo(f"error: not polled by this daemon: {', '.join(unknown)}", err=True)
        ctx.exit(1)
    if not polling:
        click.echo("no feeds to poll")


class DaemonUnreachable(RetryableError):
    """No daemon answered on its ops endpoint (not running, or elsewhere)."""

    reason: ClassVar[str] = "daemon_unreachable"


class DaemonRefused(PermanentError):
    """The daemon answered a request with an error."""

    reason: ClassVar[str] = "daemon_refused"


def ops_endpoint(settings: Settings) -> str:
    """The base URL of the local daemon's ops endpoint (a wildcard bind → loopback)."""
    host = settings.ops.http_host
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.ops.http_port}"


def _post_json(url: str, body: dict[str, object], settings: Settings) -> dict[str, Any]:
    """POST ``body`` to the daemon; its JSON answer, or a one-line MonitorError."""
    import httpx

    token = settings.ops.http_token.get_secret_value() if settings.ops.http_token else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        reply = httpx.post(url, json=body, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        raise DaemonUnreachable(f"no monitor daemon answered at {url}: {one_line(exc)}") from exc
    try:
        answer = reply.json()
    except ValueError:
        answer = {}
    if reply.status_code != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        raise DaemonRefused(f"{url}: {reply.status_code} {error or reply.reason_phrase}")
    return answer
