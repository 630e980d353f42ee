"""``scripts/kafka-local errors``: what CI prints about the broker when tests fail.

Runs the script against a broker folder of the test's own (no broker needed).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.kafka_broker import KAFKA_LOCAL


def _errors(home: Path, port: int) -> str:
    done = subprocess.run(
        [str(KAFKA_LOCAL), "errors"],
        env=os.environ | {"KAFKA_LOCAL_HOME": str(home), "KAFKA_LOCAL_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_errors_prints_the_brokers_error_lines_and_its_disk(tmp_path: Path) -> None:
    instance = tmp_path / "kafka-4.1.2" / "broker-39092"
    (instance / "data").mkdir(parents=True)
    (instance / "kafka.log").write_text(
        "[2026-12-05 18:51:20,000] INFO [KafkaServer id=1] started (kafka.server)\n"
        "[2026-12-05 18:51:25,503] ERROR Uncaught exception in scheduled task\n"
        "java.lang.OutOfMemoryError: Java heap space\n"
        "[2026-12-05 18:51:26,000] WARN [Log partition=x-0] slow (kafka.log)\n",
        encoding="utf-8",
    )
    out = _errors(tmp_path, 39092)
    assert "stopped" in out.splitlines()[0] and " free of " in out.splitlines()[0]
    assert "ERROR Uncaught exception in scheduled task" in out
    assert "java.lang.OutOfMemoryError: Java heap space" in out
    assert "INFO" not in out and "WARN" not in out


def test_errors_without_a_broker_log_says_so(tmp_path: Path) -> None:
    assert _errors(tmp_path, 39093).startswith("no broker log at ")
