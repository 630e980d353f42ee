"""docs/feeds.md, followed to the letter from an empty folder, gets an alert delivered.

The test takes the files the page tells a reader to write (the fenced blocks
whose first line is ``# file: NAME``), changes only the example ports to the
loopback servers it started, and runs the commands the page gives, in that
empty folder, with no setting the page does not name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from monitor.demo import WebhookReceiver, serving
from monitor.feeds.settings import FeedConfig, PollerSettings
from tests.ops.loopback import FeedSite, interference_items
from tests.support import REPO_ROOT

DOC = REPO_ROOT / "docs" / "feeds.md"
_BLOCK = re.compile(r"```yaml\n# file: (\S+)\n(.*?)```", re.DOTALL)


def documented_files() -> dict[str, str]:
    """The files docs/feeds.md tells the reader to write, by name."""
    return {name: body for name, body in _BLOCK.findall(DOC.read_text())}


def rules_of(payload: dict[str, object]) -> list[str]:
    """The rules a delivery names: a story's ``rules``, an alert's ``rule``."""
    body = payload.get("alert", payload)
    assert isinstance(body, dict)
    return list(body["rules"]) if "rules" in body else [body["rule"]]


def test_the_page_shows_monitor_yaml_and_feeds_yaml() -> None:
    files = documented_files()
    assert set(files) == {"monitor.yaml", "feeds.yaml"}
    assert yaml.safe_load(files["monitor.yaml"])["poller"]["allow_private_addresses"] is True


def test_every_feed_field_and_poller_setting_is_documented() -> None:
    text = DOC.read_text()
    for field in FeedConfig.model_fields:
        assert f"| `{field}` |" in text, field
    for key in PollerSettings.model_fields:
        assert f"`{key}`" in text, key


def test_a_config_written_in_an_empty_folder_from_the_docs_delivers(tmp_path: Path) -> None:
    site, receiver = FeedSite(), WebhookReceiver()
    site.add(*interference_items(1))
    files = documented_files()
    ports = {"127.0.0.1:8080": site.base_url[7:], "127.0.0.1:8081": receiver.url[7:].split("/")[0]}
    for name, body in files.items():
        for example, real in ports.items():
            body = body.replace(example, real)
        (tmp_path / name).write_text(body)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.yaml", "monitor.yaml"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["HOOK_SECRET"] = "change-me"
    monitor = [sys.executable, "-m", "monitor", "--config", "monitor.yaml"]
    with serving(site), serving(receiver):
        check = subprocess.run(
            [*monitor, "check-config"], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        run = subprocess.run(
            [*monitor, "run", "--once"], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=240,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert site.fetched, "the feed was not polled"
    fired = [rules_of(r.payload) for r in receiver.received]
    assert fired == [["foreign-interference-warning"]], run.stdout + run.stderr
    assert receiver.received[0].headers["webhook-signature"].startswith("v1,")
    assert (tmp_path / "state").is_dir()  # state_dir as the page says, in the working dir
