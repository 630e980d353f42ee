"""Hostile feeds end quickly with a clear outcome, inside 2 GB of address space.

Every body goes through ``monitor parse-feed`` in a child process whose
address space is capped with ``RLIMIT_AS``; the process must finish within
the subprocess timeout, print no traceback, and say for each source either
what it recovered or why it refused it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.feeds.health import read_health
from monitor.feeds.role import PollerRole
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.feeds.builders import rss, settings_for
from tests.feeds.httpserver import FeedServer, Reply

pytestmark = pytest.mark.reliability

TWO_GB = 2 * 1024**3
HEAD = b'<?xml version="1.0"?>'


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (TWO_GB, TWO_GB))


def _laughs() -> bytes:
    decls = [b'<!ENTITY lol0 "lol">']
    decls += [b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)]
    return (HEAD + b"<!DOCTYPE rss [" + b"".join(decls) + b"]>"
            b'<rss version="2.0"><channel><title>&lol9;</title>'
            b"<item><title>laugh &lol9;</title><link>https://a.example/l</link></item>"
            b"</channel></rss>")


def hostile_bodies(secret: Path) -> dict[str, bytes]:
    big_value = b"A" * 100_000
    return {
        "quadratic.xml": HEAD + b'<!DOCTYPE rss [<!ENTITY a "' + big_value + b'">]>'
        b'<rss version="2.0"><channel><title>q</title><item><title>'
        + b"&a;" * 50_000 + b"</title><link>https://a.example/q</link></item></channel></rss>",
        "laughs.xml": _laughs(),
        "xxe.xml": HEAD + b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://'
        + str(secret).encode() + b'">]><rss version="2.0"><channel><title>x</title>'
        b"<item><title>leak &xxe;</title><link>https://a.example/x</link></item>"
        b"</channel></rss>",
        "huge.xml": HEAD + b'<rss version="2.0"><channel>' + b"<item><title>x</title></item>"
        * (60 * 1024 * 1024 // 28),
        "nested.xml": HEAD + b'<rss version="2.0"><channel><item><title>deep</title>'
        b"<description>" + b"<div>" * 200_000 + b"x" + b"</div>" * 200_000
        + b"</description></item></channel></rss>",
        "junk.bin": bytes((i * 7919) % 256 for i in range(1_000_000)),
        "page.html": b"<!DOCTYPE html><html><head><title>Home</title></head>"
        b"<body><h1>Welcome</h1><p>Not a feed.</p></body></html>",
        "empty.xml": b"",
        "misencoded.xml": (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Caf\xe9</title><item><title>\xc9t\xe9 news</title>"
            "<link>https://a.example/m</link></item></channel></rss>"
        ).encode("latin-1"),
    }


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    folder = tmp_path_factory.mktemp("hostile")
    secret = folder / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    paths = []
    for name, body in hostile_bodies(secret).items():
        (folder / name).write_bytes(body)
        paths.append(str(folder / name))
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "parse-feed", *paths],
        capture_output=True, timeout=120, preexec_fn=_limit_address_space, check=False,
    )
    yield {"folder": folder, "done": done}


def _stderr_for(outcome: dict[str, object], name: str) -> str:
    done = outcome["done"]
    assert isinstance(done, subprocess.CompletedProcess)
    lines = done.stderr.decode().splitlines()
    found = [line for line in lines if line.split(": ", 2)[1:2] == [f"{outcome['folder']}/{name}"]]
    assert len(found) <= 1
    return found[0] if found else ""


def _entries_for(outcome: dict[str, object], name: str) -> list[dict[str, object]]:
    done = outcome["done"]
    assert isinstance(done, subprocess.CompletedProcess)
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    return [r for r in records if str(r["source"]).endswith("/" + name)]


def test_no_traceback_and_exit_code_one(outcome: dict[str, object]) -> None:
    done = outcome["done"]
    assert isinstance(done, subprocess.CompletedProcess)
    assert b"Traceback" not in done.stderr
    assert done.returncode == 1  # feeds that could not be read: a runtime failure


@pytest.mark.parametrize("name", ["quadratic.xml", "laughs.xml"])
def test_entity_bombs_are_defused(outcome: dict[str, object], name: str) -> None:
    assert "removed a DOCTYPE internal subset" in _stderr_for(outcome, name)
    entries = _entries_for(outcome, name)
    assert len(entries) == 1
    # The references stay literal text: nothing was expanded.
    assert "AAAAAAAAAA" not in str(entries[0]["title"])
    assert "lollol" not in str(entries[0]["title"])


def test_external_entity_is_never_read(outcome: dict[str, object]) -> None:
    done = outcome["done"]
    assert isinstance(done, subprocess.CompletedProcess)
    assert b"TOP-SECRET-CONTENT" not in done.stdout + done.stderr
    assert _stderr_for(outcome, "xxe.xml").startswith("warning:")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("huge.xml", "cap"), ("junk.bin", "not a feed"), ("page.html", "not a feed"),
     ("empty.xml", "empty body")],
)
def test_refused_with_reason(outcome: dict[str, object], name: str, reason: str) -> None:
    line = _stderr_for(outcome, name)
    assert line.startswith("error: ") and reason in line
    assert _entries_for(outcome, name) == []


def test_deep_nesting_ends_with_its_entry(outcome: dict[str, object]) -> None:
    (entry,) = _entries_for(outcome, "nested.xml")
    assert entry["title"] == "deep"


def test_mis_encoded_feed_is_recovered(outcome: dict[str, object]) -> None:
    assert "recovered ill-formed feed" in _stderr_for(outcome, "misencoded.xml")
    (entry,) = _entries_for(outcome, "misencoded.xml")
    assert entry["title"] == "Été news"


def test_sixty_megabytes_over_http_fail_the_feed_and_polling_goes_on(tmp_path: Path) -> None:
    with FeedServer() as server:
        server.routes["/huge"] = Reply(200, stream_bytes=60 * 1024 * 1024)
        server.routes["/fine"] = Reply(200, rss([{"title": "ok", "link": "https://a.example/1"}]))
        feeds = {"huge": server.url("/huge"), "fine": server.url("/fine")}
        settings = settings_for(tmp_path, feeds)
        role = PollerRole(RoleContext(settings, MemoryBus(), Metrics(), SystemClock()))
        assert role.run_once() == 1
        role.close()
    health = {h.feed_id: h for h in read_health(settings.state_dir)}
    assert health["huge"].health == "degraded" and "cap" in str(health["huge"].last_error)
    assert health["fine"].health == "ok"
