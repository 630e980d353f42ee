"""The disk under the alert sink's SQLite stores fills up, then space comes back.

The sink's ``state_dir`` is a real 8 MB tmpfs (``mount -t tmpfs``; this needs
root, which CI and the development machine have — without it the test fails
saying so, it is not skipped). Once the stream is flowing, a filler file takes
every free byte; articles keep arriving for ``MONITOR_DISK_FULL_S`` seconds
(default 20), then the filler is deleted. Expected: SQLite's "database or disk
is full" is a retryable store error, nothing is dead-lettered or lost, and
every expected alert is delivered once space is back.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_broker import KafkaTopics
from tests.reliability.harness import (
    CountingReceiver,
    Launcher,
    Offerer,
    Results,
    corpus,
    env_number,
    pipeline_config,
    pipeline_state,
    read_topic,
)
from tests.reliability.reference import expected_alert_ids
from tests.support import wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.kafka]

FULL_S = env_number("MONITOR_DISK_FULL_S", 20.0)
ARTICLES = int(env_number("MONITOR_FAULT_ARTICLES", 90))


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the disk-full scenario (needs root): "
                    f"{done.stderr.strip()}", pytrace=False)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def usage(folder: Path) -> str:
    """What the small disk holds, for a failure message."""
    total, used, free = shutil.disk_usage(folder)
    files = ", ".join(f"{p.relative_to(folder)}={p.stat().st_size}"
                      for p in sorted(folder.rglob("*")) if p.is_file())
    return f"{used} of {total} bytes used, {free} free: {files}"


def fill(folder: Path) -> Path:
    """Write zeros until the filesystem refuses (ENOSPC); return the filler file.

    The file is written unbuffered through its descriptor: nothing is left in
    a buffer for the close to flush, so the close cannot fail with ENOSPC too.
    """
    filler = folder / "filler"
    try:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as exc:
        pytest.fail(f"the disk filled up before the fault was injected: {exc}; {usage(folder)}",
                    pytrace=False)
    chunk = b"\0" * 65536
    try:
        while True:
            os.write(fd, chunk)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)
    return filler


def test_alert_store_disk_full_then_freed_loses_no_alert(
    tiny_disk: Path, tmp_path: Path, kafka_bootstrap: str, kafka_topics: KafkaTopics,
    launcher: Launcher, receiver: CountingReceiver, results: Results,
) -> None:
    items = corpus(ARTICLES, start=800_000)
    expected = expected_alert_ids(tmp_path / "reference", items)
    config = pipeline_config(tmp_path / "run", kafka_bootstrap, kafka_topics, receiver.url,
                             state_dir=tiny_disk / "state")
    for role in ("nlp", "alerts"):
        launcher.start(config, "run", "--roles", role)
    third = ARTICLES // 3
    Offerer(kafka_bootstrap, kafka_topics.articles, items[:third], 10).start().close()
    wait_for(lambda: {a.id for a in items[:third]} <= receiver.articles_alerted(), 240,
             "the first third alerted before the disk fills")
    filler = fill(tiny_disk)
    full_at = time.monotonic()
    before = len(receiver.received)
    offerer = Offerer(kafka_bootstrap, kafka_topics.articles, items[third:],
                      (ARTICLES - third) / FULL_S).start()
    offerer.close()
    time.sleep(max(0.0, FULL_S - (time.monotonic() - full_at)))
    during = len(receiver.received) - before
    filler.unlink()
    freed_at = time.monotonic()
    try:
        wait_for(lambda: expected <= receiver.keys(), 240, "every expected alert after freeing")
    except AssertionError:
        state = pipeline_state(kafka_bootstrap, kafka_topics, receiver, launcher)
        print(state)
        results.record("disk-full", status="FAILED", diagnosis=state.splitlines()[:6])
        raise
    tally = receiver.tally()
    letters = read_topic(kafka_bootstrap, kafka_topics.deadletter, idle_s=2)
    results.record(
        "disk-full", articles_in=len(items), alerts_expected=len(expected),
        alerts_delivered=len(tally.keys), posts=tally.posts, duplicates_by_key=tally.duplicates,
        lost=len(expected - tally.keys), disk_full_s=freed_at - full_at,
        posts_while_full=during, recovery_s=time.monotonic() - freed_at,
        dead_letters=len(letters), method="tmpfs 8 MB (mount -t tmpfs)",
    )
    assert tally.keys == expected
    assert not letters, "a disk-full error dead-lettered records"
