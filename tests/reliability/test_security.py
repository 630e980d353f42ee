"""Security checks on a running daemon.

* the receiver snippet in ``docs/webhooks.md`` (the ``standardwebhooks``
  library) is extracted from the markdown and executed: it accepts the
  daemon's real signed requests and rejects tampered bodies, wrong keys and
  replays (timestamps outside five minutes);
* no secret value (webhook keys from config and from the environment, a
  receiver's Authorization header, the ops token, a Kafka SASL password) ever
  appears in the output of the daemons run here at DEBUG level — the
  ``launcher`` fixture also scans every other daemon this suite starts;
* the status page refuses requests without the token when one is set, and
  binds to loopback by default.
"""

from __future__ import annotations

import re
import time
import types
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.signing import signed_headers
from monitor.config import load_settings
from monitor.demo import StaticSite, serving
from tests.reliability.harness import (
    HEADER_SECRET,
    OPS_TOKEN,
    WEBHOOK_SECRET,
    CountingReceiver,
    Launcher,
)
from tests.support import REPO_ROOT, free_port, run_monitor, wait_for, write_config

pytestmark = pytest.mark.reliability

ENV_SECRET = "rel-env-key-" + uuid.uuid4().hex
SASL_PASSWORD = "rel-sasl-" + uuid.uuid4().hex
Verify = Callable[[str, dict[str, str], bytes], Any]


def documented_verifier() -> Verify:
    """The Python block under 'Verifying a request' in docs/webhooks.md, executed
    (it returns the parsed alert, or None for a refused request)."""
    text = (REPO_ROOT / "docs" / "webhooks.md").read_text()
    section = text.split("## Verifying a request", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "docs/webhooks.md has no python block under 'Verifying a request'"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "docs/webhooks.md", "exec"), namespace)
    functions = [v for k, v in namespace.items()
                 if isinstance(v, types.FunctionType) and k.startswith("verify")]
    assert len(functions) == 1, "expected one verify… function in the snippet"
    verify: Verify = functions[0]
    return verify


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[CountingReceiver, int, Launcher]]:
    """A daemon (embedded bus, DEBUG logs) with every kind of secret configured."""
    folder = tmp_path_factory.mktemp("security")
    site = StaticSite(REPO_ROOT / "tests" / "fixtures" / "e2e")
    receiver = CountingReceiver().start()
    down_port = free_port()
    port = free_port()
    launcher = Launcher()
    with serving(site):
        receivers = [
            {"name": "up", "url": receiver.url, "secret": WEBHOOK_SECRET,
             "headers": {"Authorization": f"Bearer {HEADER_SECRET}"}},
            {"name": "down", "url": f"http://127.0.0.1:{down_port}/hook",
             "secret_env": "REL_HOOK_KEY"},
        ]
        config = write_config(
            folder, feeds=[("wire", f"{site.base_url}/feed.xml")],
            extra={"alerts": {"receivers": receivers},
                   "ops": {"http_port": port, "http_token": OPS_TOKEN, "log_level": "DEBUG",
                           "log_format": "json"}},
        )
        launcher.start(config, "run", env={"REL_HOOK_KEY": ENV_SECRET})
        try:
            wait_for(lambda: len(receiver.received) >= 1, 120, "a signed alert")
            wait_for(lambda: _served(port), 30, "the ops endpoint")
            yield receiver, port, launcher
        finally:
            launcher.stop_all()
            receiver.close()
    leaks = launcher.leaked_secrets() + [
        f"pid {p.popen.pid}: env secret" for p in launcher.processes if ENV_SECRET in p.output()]
    assert not leaks, leaks


def _served(port: int) -> bool:
    return _get(port, "/healthz")[0] == 200


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


def test_documented_snippet_accepts_the_daemons_signed_requests(
    secured: tuple[CountingReceiver, int, Launcher],
) -> None:
    receiver = secured[0]
    verify = documented_verifier()
    for request in receiver.received:
        assert verify(WEBHOOK_SECRET, request.headers, request.body) == request.payload


def test_documented_snippet_rejects_tampering_wrong_keys_and_replays(
    secured: tuple[CountingReceiver, int, Launcher],
) -> None:
    request = secured[0].received[0]
    key = WEBHOOK_SECRET.encode()
    verify = documented_verifier()
    assert verify(WEBHOOK_SECRET, request.headers, request.body + b" ") is None
    assert verify("not-the-key", request.headers, request.body) is None
    assert verify(WEBHOOK_SECRET, {}, request.body) is None
    # The library checks timestamps against the real clock, so the request is
    # re-signed as if captured and replayed later (or sent with a clock far
    # off): refused outside five minutes either way, however valid the
    # signature, and accepted well inside them.
    msg_id = request.headers["webhook-id"]
    for skew in (-360, 360, -86400, 86400):
        stamp = int(time.time()) + skew
        headers = {**request.headers, **signed_headers([key], msg_id, stamp, request.body)}
        assert verify(WEBHOOK_SECRET, headers, request.body) is None, skew
    for skew in (-240, 240):
        stamp = int(time.time()) + skew
        headers = {**request.headers, **signed_headers([key], msg_id, stamp, request.body)}
        assert verify(WEBHOOK_SECRET, headers, request.body) == request.payload, skew
    bad_stamp = {**request.headers, "webhook-timestamp": "12ab"}
    assert verify(WEBHOOK_SECRET, bad_stamp, request.body) is None


def test_status_page_requires_the_token(secured: tuple[CountingReceiver, int, Launcher]) -> None:
    port = secured[1]
    for path in ("/", "/metrics", "/readyz", "/?q=election"):
        assert _get(port, path)[0] == 401, path
        assert _get(port, path, {"Authorization": "Bearer wrong"})[0] == 401, path
        assert _get(port, path + ("&" if "?" in path else "?") + "token=wrong")[0] == 401, path
    status, body = _get(port, "/", {"Authorization": f"Bearer {OPS_TOKEN}"})
    assert status == 200 and "<html" in body.lower()
    assert _get(port, "/metrics", {"Authorization": f"Bearer {OPS_TOKEN}"})[0] == 200
    assert _get(port, "/healthz")[0] == 200  # documented: probes need no token


def _listening_addresses(port: int) -> set[str]:
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


def test_status_page_binds_to_loopback_by_default(
    secured: tuple[CountingReceiver, int, Launcher], tmp_path: Path
) -> None:
    assert load_settings(write_config(tmp_path), environ={}).ops.http_host == "127.0.0.1"
    # The running daemon was not told a host: it listens on 127.0.0.1 only.
    assert _listening_addresses(secured[1]) == {"0100007F"}


def test_sasl_password_stays_out_of_logs_when_the_broker_is_unreachable(tmp_path: Path) -> None:
    bus = {"kind": "kafka", "kafka": {
        "bootstrap_servers": f"127.0.0.1:{free_port()}", "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN", "sasl_plain_username": "monitor",
        "sasl_plain_password": SASL_PASSWORD, "connect_attempts": 1}}
    config = write_config(tmp_path, bus=bus, extra={"ops": {"http_enabled": False,
                                                            "log_level": "DEBUG"}})
    done = run_monitor(config, "run", "--once", timeout=120)
    assert done.returncode != 0
    assert SASL_PASSWORD not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
