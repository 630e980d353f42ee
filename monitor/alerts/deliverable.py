"""What the alerts topic carries and delivery sends: a story's notification or one alert.

With ``notify: story`` (the default) the sink publishes
:class:`~monitor.messages.StoryNotification` (``story/1``), with ``notify:
statement`` :class:`~monitor.messages.Alert` (``alert/2``). Both have an
``id`` (the ``Idempotency-Key``), ``created_at``, ``severity``, an
``article`` and ``sources``; a notification also has a ``revision`` (an
alert is always revision 1). Pure helpers only.
"""

from __future__ import annotations

import json

from monitor.bus.codec import decode
from monitor.errors import DecodeError
from monitor.messages import Alert, StoryNotification

Deliverable = Alert | StoryNotification


def decode_deliverable(raw: bytes) -> Deliverable:
    """A notification or an alert, by the ``schema`` the record names.

    Raises :class:`~monitor.errors.DecodeError` for anything else.
    """
    try:
        schema = json.loads(raw).get("schema") if raw[:1] == b"{" else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"not JSON: {exc}") from exc
    if isinstance(schema, str) and schema.startswith("story/"):
        return decode(raw, StoryNotification)
    return decode(raw, Alert)


def revision_of(item: Deliverable) -> int:
    """The item's revision: a notification's own, 1 for an alert."""
    return item.revision if isinstance(item, StoryNotification) else 1


def message_id(item: Deliverable) -> str:
    """The id of one message to a receiver (Standard Webhooks' ``webhook-id``):
    the same on every retry of it, new for each revision of a story, so a
    receiver that drops ids it has seen keeps every update ("<story id>.r<n>");
    an alert's own id. (``Idempotency-Key`` stays the story's id.)"""
    if isinstance(item, StoryNotification):
        return f"{item.id}.r{item.revision}"
    return item.id


def rules_of(item: Deliverable) -> tuple[str, ...]:
    """Every rule that fired, in order."""
    return item.rules if isinstance(item, StoryNotification) else (item.rule,)


def texts_of(item: Deliverable) -> tuple[str, ...]:
    """The statement texts the item carries."""
    if isinstance(item, StoryNotification):
        return tuple(s.statement.text for s in item.statements)
    return (item.statement.text,)
