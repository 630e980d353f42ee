"""The shipped JSON Schema is the one the code produces."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.alerts.schema import alert_json_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "alert.schema.json"


def test_documented_schema_matches_the_payload_model() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == alert_json_schema()


def test_schema_requires_the_fields_receivers_rely_on() -> None:
    schema = alert_json_schema()
    assert {"id", "rule", "severity", "statement", "article", "matches", "created_at"} <= set(
        schema["required"])
    assert schema["properties"]["schema"]["const"] == "alert/1"
