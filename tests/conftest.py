"""Shared test setup: the Kafka broker plugin and small helpers every folder uses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# scripts/test's second leg runs tests/nlp against the mypyc-compiled build of
# the monitor (setup.py); its folder must come before the source tree, which
# pytest put first on sys.path. Nothing has imported the monitor yet.
_COMPILED = os.environ.get("MONITOR_COMPILED")
if _COMPILED:
    sys.path.insert(0, _COMPILED)

pytest_plugins = ["tests.kafka_broker"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
