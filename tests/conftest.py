"""Shared test setup: the Kafka broker plugin and small helpers every folder uses."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.kafka_broker"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
