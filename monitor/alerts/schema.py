"""The JSON Schema of the generic webhook payload, derived from the Alert message.

``docs/alert.schema.json`` is this function's output; a test keeps the two
equal, so the documented schema cannot drift from what is sent.
Regenerate with ``python -m monitor.alerts.schema > docs/alert.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from monitor.messages import Alert


def alert_json_schema() -> dict[str, Any]:
    schema = TypeAdapter(Alert).json_schema(mode="serialization")
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/news-monitor/alert.schema.json",
        "description": (
            "Body of a generic webhook POST from the news monitor: one alert. "
            "Offsets in 'matches' index statement.text; offsets in statement and "
            "entities index the article document (headline, newline, body). "
            "The 'id' equals the Idempotency-Key header."
        ),
    }


if __name__ == "__main__":
    print(json.dumps(alert_json_schema(), indent=2, ensure_ascii=False))
