"""Every peer feed in ``../shared/peer-feeds`` through ``monitor parse-feed`` (CI only).

No traceback, and every entry feedparser finds in a file is printed: a file
may only be refused (``error: …``) when feedparser finds no entry in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import feedparser
import pytest

from tests.conftest import SHARED

pytestmark = pytest.mark.ci_only

PEER_FEEDS = SHARED / "peer-feeds"


def manifest_files() -> list[Path]:
    lines = (PEER_FEEDS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    column = header.index("file")
    return [PEER_FEEDS / row[column] for row in body if len(row) > column and row[column]]


def feedparser_entry_count(path: Path) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return len(feedparser.parse(path.read_bytes()).entries)


@pytest.mark.skipif(
    not (PEER_FEEDS / "MANIFEST.tsv").exists(),
    reason=f"{PEER_FEEDS} is absent (only CI and developer machines have ../shared)",
)
def test_every_peer_feed_parses_without_losing_entries() -> None:
    files = manifest_files()
    assert len(files) >= 140
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "parse-feed", *map(str, files)],
        capture_output=True, timeout=240, check=False,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    assert done.returncode in (0, 1)  # 1: some peer feeds are broken (a runtime failure)
    printed = Counter(json.loads(line)["source"] for line in done.stdout.decode().splitlines())
    refused = {line.split(": ", 2)[1] for line in stderr.splitlines() if line.startswith("error: ")}
    for line in stderr.splitlines():
        assert line.startswith(("error: ", "warning: ")), line
    lost = []
    for path in files:
        expected = feedparser_entry_count(path)
        if printed[str(path)] < expected:
            lost.append(f"{path.relative_to(PEER_FEEDS)}: feedparser {expected}, "
                        f"printed {printed[str(path)]}")
        if str(path) in refused:
            assert expected == 0, f"{path} refused although feedparser finds entries"
    assert not lost, "\n".join(lost)
