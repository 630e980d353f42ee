"""The status page of a running daemon, as a person sees it in headless Chromium.

The daemon polls two loopback feeds: one carries interference stories, the
other answers 500 and so becomes broken. Chromium loads the page (with the
token in the query string, and with enough virtual time for the live refresh
to run), and the rendered DOM must list the alerts with the rule's words
highlighted and show the failing feed as broken. A screenshot is saved under
``$MONITOR_TEST_ARTIFACTS`` (default ``build/test-artifacts``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from monitor.demo import WebhookReceiver, serving
from tests.ops.loopback import FeedSite, interference_items
from tests.support import REPO_ROOT, MonitorProcess, free_port, wait_for, write_config

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "browser-test-token-51c0"
ARTIFACTS = Path(os.environ.get("MONITOR_TEST_ARTIFACTS", REPO_ROOT / "build" / "test-artifacts"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1700", "--virtual-time-budget=7000",
]

pytestmark = pytest.mark.browser


class PageModel(HTMLParser):
    """What the page shows: alert items with their marked words, and feed rows."""

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[dict[str, list[str]]] = []
        self.feeds: dict[str, dict[str, str]] = {}
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._mark: str | None = None
        self._row: str | None = None
        self.origin = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        classes = attr.get("class", "").split()
        if attr.get("id") == "origin":
            self.origin = attr.get("data-origin", "")
        elif tag == "li" and "alert" in classes:
            self.alerts.append({"marks": [], "text": []})
        elif tag == "mark" and self.alerts:
            self._mark = " ".join(classes)
        elif tag == "tr" and "feed" in classes:
            self._row = attr.get("data-feed-id", "")
            self.feeds[self._row] = {"class": " ".join(classes), "text": ""}

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._mark = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._mark is not None:
            self.alerts[-1]["marks"].append(f"{self._mark}:{data}")
        if self.alerts:
            self.alerts[-1]["text"].append(data)
        if self._row is not None:
            self.feeds[self._row]["text"] += data


@pytest.fixture
def site() -> Iterator[FeedSite]:
    server = FeedSite()
    with serving(server):
        yield server


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_status_page_shows_highlighted_alerts_and_a_broken_feed(
    tmp_path: Path, site: FeedSite
) -> None:
    assert CHROMIUM.exists(), "Debian's chromium package is needed: apt-get install chromium"
    receiver = WebhookReceiver()
    site.add(*interference_items(3))
    port = free_port()
    config = write_config(
        tmp_path,
        feeds=[("loopback-wire", f"{site.base_url}/feed.xml"),
               ("dead-wire", f"{site.base_url}/dead.xml")],
        receivers=[receiver.url],
        extra={
            "poller": {"allow_private_addresses": True, "fetch_pages": False,
                       "broken_after_failures": 1, "per_host_delay_s": 0},
            "alerts": {"dedup": {"similarity": 100}},  # three stories, not one
            "ops": {"http_port": port, "http_token": TOKEN},
        },
    )
    page_url = f"http://127.0.0.1:{port}/?token={TOKEN}"
    with serving(receiver):
        process = MonitorProcess(config, "run")
        try:
            wait_for(lambda: len(receiver.received) >= 3, 90, "three alerts delivered")
            wait_for(lambda: _feed_state(port, "dead-wire") == "broken", 60, "a broken feed")
            dom = chromium("--dump-dom", page_url, profile=tmp_path / "profile-dom")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "status-page.png"
            shot.unlink(missing_ok=True)
            chromium(f"--screenshot={shot}", page_url, profile=tmp_path / "profile-shot")
        finally:
            code = process.stop()
    assert code == 0, process.output()[-2000:]
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = PageModel()
    page.feed(dom.stdout)
    assert page.origin == "fragment", "the live refresh did not replace the first rendering"
    assert len(page.alerts) == 3, dom.stdout[:3000]
    for alert in page.alerts:
        assert any(m.endswith(":interfering") and "match" in m for m in alert["marks"]), alert
        assert "Zembla" in "".join(alert["text"])
    dead = page.feeds["dead-wire"]
    assert "feed-broken" in dead["class"] and "BROKEN" in dead["text"]
    assert "feed-broken" not in page.feeds["loopback-wire"]["class"]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _feed_state(port: int, feed_id: str) -> str | None:
    status = httpx.get(
        f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"Bearer {TOKEN}"}
    ).json()
    return next((f["state"] for f in status["feeds"] if f["feed_id"] == feed_id), None)
