"""Request bodies per receiver kind, as pure functions of a story or an alert.

* ``webhook``: the story's notification (``schema: "story/1"``) or the alert
  (``schema: "alert/2"``) itself as JSON, described by ``docs/alert.schema.json``.
* ``slack``: a Slack-compatible incoming-webhook message (``text`` plus
  Block Kit ``blocks``); Mattermost and Rocket.Chat accept the same shape.
  Feed text is escaped and cut to Slack's limits (:mod:`monitor.alerts.slack`).
* ``alertmanager``: a one-element list for Alertmanager's ``POST
  /api/v2/alerts``. A story is one Alertmanager alert whose labels never
  change (``alertname="news_story"``, ``story_id``, ``source``), so every
  revision is merged into it by Alertmanager itself; per-statement alerts carry
  their alert id as a label. It ends (resolves) ``resolve_after_s`` after it
  was posted (``endsAt``), and its ``generatorURL`` is the story's article.

:func:`render` picks the body for a receiver; the time it is given (the
moment of sending, from the injected clock) is the only input besides the
alert and the receiver's settings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from monitor.alerts.deliverable import Deliverable
from monitor.alerts.settings import DEFAULT_RESOLVE_AFTER_S, ReceiverSettings
from monitor.alerts.slack import slack_body
from monitor.bus.codec import encode
from monitor.clock import iso_utc
from monitor.messages import Alert, ArticleRef, StoryNotification

__all__ = ["RENDERERS", "STORY_ALERTNAME", "alertmanager_body", "render", "slack_body",
           "webhook_body"]

_LABEL_NAME = re.compile(r"[^A-Za-z0-9_]")
#: Alertmanager annotations are free text; keep them readable in its UI.
_ANNOTATION_CAP = 2000
#: The ``alertname`` of every story posted to Alertmanager.
STORY_ALERTNAME = "news_story"


def webhook_body(item: Deliverable) -> bytes:
    return encode(item)


def alertmanager_body(
    item: Deliverable, *, now: float, resolve_after_s: float = DEFAULT_RESOLVE_AFTER_S
) -> bytes:
    """Alertmanager's alert list for a story (:func:`story_entry`) or an alert,
    posted at ``now``, ending ``resolve_after_s`` later."""
    entry = story_entry(item) if isinstance(item, StoryNotification) else alert_entry(item)
    entry["endsAt"] = iso_utc(now + resolve_after_s, millis=True)
    generator = _web_url(item.article)
    if generator:
        entry["generatorURL"] = generator
    return json.dumps([entry], ensure_ascii=False).encode("utf-8")


def story_entry(story: StoryNotification) -> dict[str, object]:
    """One Alertmanager alert for a story. Its labels are the same for every
    revision (Alertmanager's fingerprint is made from them, so it merges the
    revisions into one alert); severity, rules and the statements are annotations."""
    labels = {"alertname": STORY_ALERTNAME, "story_id": story.id, "source": "news-monitor"}
    statements = [s.statement for s in story.statements]
    annotations = {
        "summary": story.article.title[:_ANNOTATION_CAP],
        "severity": story.severity,
        "revision": str(story.revision),
        "rules": ", ".join(story.rules),
        "speakers": ", ".join(dict.fromkeys(s.speaker for s in statements if s.speaker)),
        "statements": "\n".join(
            f"{s.speaker or 'unattributed'}: {s.text}" for s in statements)[:_ANNOTATION_CAP],
        "tags": ",".join(dict.fromkeys(t for s in statements for t in s.tags)),
        "matched": ", ".join(sorted({m.text for s in story.statements for f in s.rules
                                     for m in f.matches})),
        "article_url": story.article.url,
        "article_title": story.article.title[:_ANNOTATION_CAP],
        "sources": ", ".join(sorted({s.entry_url or s.feed_id for s in story.sources})),
    }
    return {
        "labels": labels,
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": story.created_at,
    }


def _web_url(article: ArticleRef) -> str | None:
    """The article's URL when it is http(s) (Alertmanager refuses the whole request
    for a malformed ``generatorURL``)."""
    return article.url if article.url.startswith(("http://", "https://")) else None


def alert_entry(alert: Alert) -> dict[str, object]:
    """One Alertmanager alert for a per-statement alert, its id a label.

    :func:`alertmanager_body` adds ``endsAt``: without it Alertmanager resolves
    the alert by itself after its own ``resolve_timeout`` (5 minutes by
    default).
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
    return {
        "labels": labels,
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": alert.created_at,
    }


def _label_name(key: str) -> str:
    name = _LABEL_NAME.sub("_", key)
    return name if name and not name[0].isdigit() else f"l_{name}"


def render(receiver: ReceiverSettings, item: Deliverable, now: float) -> bytes:
    """The request body for ``receiver`` carrying ``item``, sent at ``now``."""
    return RENDERERS[receiver.kind](receiver, item, now)


RENDERERS: dict[str, Callable[[ReceiverSettings, Deliverable, float], bytes]] = {
    "webhook": lambda receiver, alert, now: webhook_body(alert),
    "slack": lambda receiver, alert, now: slack_body(alert),
    "alertmanager": lambda receiver, alert, now: alertmanager_body(
        alert, now=now, resolve_after_s=receiver.resolve_after_s),
}
