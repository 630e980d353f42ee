"""The JSON Schema of the generic webhook payload, derived from the messages.

A body is one of two documents, told apart by ``schema``: a story's
notification (``story/1``, the default) or a per-statement alert (``alert/2``).

``docs/alert.schema.json`` is this function's output; a test keeps the two
equal, so the documented schema cannot drift from what is sent.
Regenerate with ``python -m monitor.alerts.schema > docs/alert.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from monitor.messages import Alert, StoryNotification


def alert_json_schema() -> dict[str, Any]:
    schema = TypeAdapter(StoryNotification | Alert).json_schema(mode="serialization")
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/news-monitor/alert.schema.json",
        "description": (
            "Body of a generic webhook POST from the news monitor: a story's "
            "notification ('schema': 'story/1', every statement and rule of one story, "
            "sent again with a higher 'revision' when something new arrives) or, with "
            "alerts.notify: statement, one alert ('schema': 'alert/2'). Every offset "
            "counts from the text it sits beside: matches, evidence and entities index "
            "their statement's own text (a statement's start is 0, its end the text's "
            "length). The 'id' equals the Idempotency-Key header."
        ),
    }


if __name__ == "__main__":
    print(json.dumps(alert_json_schema(), indent=2, ensure_ascii=False))
