"""The shipped JSON Schema is the one the code produces, and what is sent validates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

from monitor.alerts.grouping import regroup, story_id
from monitor.alerts.matching import evaluate, make_alert
from monitor.alerts.rules import load_rules
from monitor.bus.codec import encode
from monitor.messages import Alert, StoryNotification
from tests.alerts.helpers import RULES_FILE, tagged_article

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA_FILE = DOCS / "alert.schema.json"


def schema() -> dict[str, Any]:
    loaded = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_documented_schema_matches_the_payload_model() -> None:
    from monitor.alerts.schema import alert_json_schema

    assert schema() == alert_json_schema()


def test_schema_requires_the_fields_receivers_rely_on() -> None:
    defs = schema()["$defs"]
    story, alert = defs["StoryNotification"], defs["Alert"]
    assert {"id", "revision", "severity", "rules", "statements", "article", "sources",
            "created_at", "updated_at"} <= set(story["required"])
    assert story["properties"]["schema"]["const"] == "story/1"
    assert {"id", "rule", "severity", "statement", "article", "matches", "created_at"} <= set(
        alert["required"])
    assert alert["properties"]["schema"]["const"] == "alert/2"


def sent_payloads() -> list[dict[str, Any]]:
    """A story notification and the per-statement alerts, as the sink makes them."""
    article = tagged_article()
    alerts = [make_alert(hit, st, article.article, 1_800_000_000.0)
              for st in article.statements
              for hit in evaluate(load_rules(RULES_FILE), st, article.article)]
    story = regroup(None, story_id(article.article.id), alerts, False, 1_800_000_000.0)
    assert story.notification is not None
    sent: list[Alert | StoryNotification] = [story.notification, *alerts]
    return [json.loads(encode(item)) for item in sent]


def test_what_is_sent_validates_and_every_offset_counts_from_its_statement() -> None:
    for payload in sent_payloads():
        jsonschema.validate(payload, schema())
        items = payload.get("statements") or [{"statement": payload["statement"],
                                               "rules": [payload]}]
        for item in items:
            statement = item["statement"]
            text = statement["text"]
            assert (statement["start"], statement["end"]) == (0, len(text))
            for spans in (statement["evidence"], statement["entities"],
                          *(f["matches"] for f in item["rules"])):
                for span in spans:
                    assert text[span["start"]:span["end"]] == span["text"], span


def test_the_example_in_the_webhooks_doc_validates() -> None:
    doc = (DOCS / "webhooks.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- example-payload -->\s*```json\n(.*?)```", doc, re.S)
    assert found, "docs/webhooks.md lost its example payload"
    example = json.loads(found.group(1))
    jsonschema.validate(example, schema())
    assert example["schema"] == "story/1"
