"""Request bodies per receiver kind, as pure functions of an alert.

* ``webhook``: the alert itself as JSON (``schema: "alert/1"``), described by
  ``docs/alert.schema.json``.
* ``slack``: a Slack-compatible incoming-webhook message (``text`` plus
  Block Kit ``blocks``); Mattermost and Rocket.Chat accept the same shape.
  Feed text is escaped and cut to Slack's limits (:mod:`monitor.alerts.slack`).
* ``alertmanager``: a one-element list for Alertmanager's ``POST
  /api/v2/alerts``. The alert id is a label, so each alert is its own
  Alertmanager alert and a re-sent one is merged by Alertmanager itself. It
  ends (resolves) ``resolve_after_s`` after it was posted (``endsAt``), and
  its ``generatorURL`` is the story's article.

:func:`render` picks the body for a receiver; the time it is given (the
moment of sending, from the injected clock) is the only input besides the
alert and the receiver's settings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from monitor.alerts.settings import DEFAULT_RESOLVE_AFTER_S, ReceiverSettings
from monitor.alerts.slack import slack_body
from monitor.bus.codec import encode
from monitor.clock import iso_utc
from monitor.messages import Alert

__all__ = ["RENDERERS", "alertmanager_body", "render", "slack_body", "webhook_body"]

_LABEL_NAME = re.compile(r"[^A-Za-z0-9_]")
#: Alertmanager annotations are free text; keep them readable in its UI.
_ANNOTATION_CAP = 2000


def webhook_body(alert: Alert) -> bytes:
    return encode(alert)


def alertmanager_body(
    alert: Alert, *, now: float, resolve_after_s: float = DEFAULT_RESOLVE_AFTER_S
) -> bytes:
    """Alertmanager's alert list for ``alert`` posted at ``now``.

    ``endsAt`` is ``now + resolve_after_s``: without it Alertmanager resolves
    the alert by itself after its own ``resolve_timeout`` (5 minutes by
    default). ``generatorURL`` is the article, when it is an http(s) URL
    (Alertmanager refuses the whole request for a malformed one).
    """
    labels = {_label_name(k): v for k, v in alert.labels.items()}
    labels.update({
        "alertname": alert.rule,
        "severity": alert.severity,
        "alert_id": alert.id,
        "source": "news-monitor",
    })
    annotations = {
        "summary": alert.statement.text[:_ANNOTATION_CAP],
        "speaker": alert.statement.speaker or "",
        "tags": ",".join(alert.statement.tags),
        "article_url": alert.article.url,
        "article_title": alert.article.title[:_ANNOTATION_CAP],
        "matched": ", ".join(sorted({m.text for m in alert.matches})),
        "sources": ", ".join(sorted({s.entry_url or s.feed_id for s in alert.sources})),
    }
    entry: dict[str, object] = {
        "labels": labels,
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": alert.created_at,
        "endsAt": iso_utc(now + resolve_after_s, millis=True),
    }
    if alert.article.url.startswith(("http://", "https://")):
        entry["generatorURL"] = alert.article.url
    return json.dumps([entry], ensure_ascii=False).encode("utf-8")


def _label_name(key: str) -> str:
    name = _LABEL_NAME.sub("_", key)
    return name if name and not name[0].isdigit() else f"l_{name}"


def render(receiver: ReceiverSettings, alert: Alert, now: float) -> bytes:
    """The request body for ``receiver`` carrying ``alert``, sent at ``now``."""
    return RENDERERS[receiver.kind](receiver, alert, now)


RENDERERS: dict[str, Callable[[ReceiverSettings, Alert, float], bytes]] = {
    "webhook": lambda receiver, alert, now: webhook_body(alert),
    "slack": lambda receiver, alert, now: slack_body(alert),
    "alertmanager": lambda receiver, alert, now: alertmanager_body(
        alert, now=now, resolve_after_s=receiver.resolve_after_s),
}
