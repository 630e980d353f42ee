"""Helpers for tests that run the whole monitor: config folders and processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
MONITOR = [sys.executable, "-m", "monitor"]


def write_config(
    folder: Path,
    *,
    feeds: Sequence[tuple[str, str]] = (),
    receivers: Sequence[str] = (),
    bus: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write monitor.yaml + feeds.yaml into ``folder``, using the shipped rules and lexicons.

    Feeds are (id, url) pairs; receivers are webhook URLs (signed with a test secret).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": [{"id": fid, "url": url} for fid, url in feeds]})
    )
    config: dict[str, Any] = {
        "bus": bus or {"kind": "embedded"},
        "rules_file": str(CONFIG_DIR / "rules.yaml"),
        "state_dir": str(folder / "state"),
        "nlp": {"lexicon_dir": str(CONFIG_DIR / "nlp")},
        "poller": {"allow_private_addresses": True},
        "alerts": {
            "receivers": [
                {"name": f"hook{i}", "url": url, "secret": "test-secret"}
                for i, url in enumerate(receivers)
            ]
        },
        "ops": {"http_port": 0},
    }
    for section, values in (extra or {}).items():
        if isinstance(values, dict) and isinstance(config.get(section), dict):
            config[section] = {**config[section], **values}
        else:
            config[section] = values
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MonitorProcess:
    """``monitor --config CONFIG ARGS…`` as a separate process, its output collected."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.popen = subprocess.Popen(
            [*MONITOR, "--config", str(config), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._lines.append(line)

    def output(self) -> str:
        return "".join(self._lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for exit; return the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        code = self.popen.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code


def run_monitor(
    config: Path | None, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a monitor command to completion (``timeout`` guards against hangs only)."""
    prefix = ["--config", str(config)] if config else []
    return subprocess.run(
        [*MONITOR, *prefix, *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail the test naming ``what`` if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
