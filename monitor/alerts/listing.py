"""How ``monitor alerts list`` shows the history: pure formatting of stored items.

A story is a heading line (severity, id, revision, counts, delivery status per
receiver, headline and link) and one indented line per statement with its
speaker, the rules that fired and the words they matched; a per-statement
alert is one line. ``--json`` gives one object per item with the same facts.
"""

from __future__ import annotations

import json

from monitor.alerts.store import StoredAlert
from monitor.messages import Alert, StoryStatement


def as_line(item: StoredAlert) -> str:
    """A story: a heading line, then one indented line per statement with its
    speaker, rules and matched words; an alert: one line."""
    found = item.alert
    deliveries = ",".join(f"{k}={v}" for k, v in sorted(item.deliveries.items())) or "pending"
    if isinstance(found, Alert):
        words = ", ".join(dict.fromkeys(m.text for m in found.matches))
        return (
            f"{found.created_at} {found.severity:<8} {found.rule} {found.id} "
            f"sources={len(found.sources)} [{deliveries}] "
            f"{_speaker(found.statement.speaker)}: {_short(found.statement.text)} "
            f"matched: {words} <{found.article.url}>"
        )
    head = (
        f"{found.created_at} {found.severity:<8} story {found.id} rev {found.revision} "
        f"statements={len(found.statements)} sources={len(found.sources)} "
        f"[{deliveries}] {found.article.title} <{found.article.url}>"
    )
    return "\n".join([head, *(_statement_line(s) for s in found.statements)])


def _statement_line(item: StoryStatement) -> str:
    words = ", ".join(dict.fromkeys(m.text for f in item.rules for m in f.matches))
    rules = ",".join(f.rule for f in item.rules)
    return (
        f"  {_speaker(item.statement.speaker)}: {_short(item.statement.text)} "
        f"[{rules}] matched: {words}"
    )


def _speaker(speaker: str | None) -> str:
    return speaker or "unattributed"


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


def as_json(item: StoredAlert) -> str:
    found = item.alert
    common = {
        "id": found.id,
        "severity": found.severity,
        "created_at": found.created_at,
        "url": found.article.url,
        "title": found.article.title,
        "sources": [s.entry_url or s.feed_id for s in found.sources],
        "deliveries": item.deliveries,
    }
    if isinstance(found, Alert):
        return json.dumps(
            {
                **common,
                "kind": "alert",
                "rule": found.rule,
                "text": found.statement.text,
                "speaker": found.statement.speaker,
                "matched": [m.text for m in found.matches],
            },
            ensure_ascii=False,
        )
    return json.dumps(
        {
            **common,
            "kind": "story",
            "revision": found.revision,
            "rules": list(found.rules),
            "statements": [
                {
                    "text": s.statement.text,
                    "speaker": s.statement.speaker,
                    "tags": list(s.statement.tags),
                    "rules": [f.rule for f in s.rules],
                    "matched": list(dict.fromkeys(m.text for f in s.rules for m in f.matches)),
                }
                for s in found.statements
            ],
        },
        ensure_ascii=False,
    )
