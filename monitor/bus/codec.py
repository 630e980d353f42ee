"""Topic names and message serialisation: the one place that owns both.

Messages travel as UTF-8 JSON objects whose ``schema`` field names their
type and version. Decoding validates the whole object against the expected
dataclass (pydantic does the work), so a stage never sees a half-valid
message: anything else raises :class:`~monitor.errors.DecodeError`, whose
one-line text says what is wrong, and the record goes to the dead-letter
topic.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from monitor.errors import DecodeError
from monitor.messages import (
    Alert,
    Article,
    Candidates,
    DeadLetter,
    DeliveryEntry,
    EmissionsEntry,
    Message,
    NotificationEntry,
    SeenEntry,
    SilenceEntry,
    StoryEntry,
    StoryNotification,
    TaggedArticle,
)

M = TypeVar(
    "M", Article, TaggedArticle, Alert, StoryNotification, DeadLetter, Candidates,
    StoryEntry, EmissionsEntry, NotificationEntry, SilenceEntry, DeliveryEntry, SeenEntry,
)

#: Largest message a consumer will try to decode; bigger ones are poison.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class TopicNames(BaseModel):
    """Names of the topics the stages talk through (configurable per deployment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    articles: str = "monitor.articles"
    statements: str = "monitor.statements"
    alerts: str = "monitor.alerts"
    deadletter: str = "monitor.deadletter"
    #: Alerts whose delivery ran out of retries; ``monitor alerts replay`` reads it.
    alerts_deadletter: str = "monitor.alerts.deadletter"
    #: Compacted topic of feed definitions and poll state, keyed by feed id.
    feeds: str = "monitor.feeds"
    #: Internal: each article's candidate alerts, keyed by story domain, from rule
    #: matching to the story decisions.
    alerts_candidates: str = "monitor.alerts.candidates"
    #: Compacted changelog of the story decisions' state, partitioned like
    #: ``alerts_candidates``.
    alerts_state: str = "monitor.alerts.state"
    #: Compacted topic of silences, keyed by silence id (on Kafka; the embedded bus
    #: keeps them in the state folder).
    alerts_silences: str = "monitor.alerts.silences"
    #: Compacted changelog of each receiver's last outcome per alert, partitioned
    #: like ``alerts``.
    alerts_deliveries: str = "monitor.alerts.deliveries"
    #: Internal to the poller role: each copy of an article a poll found, keyed by
    #: article id, from the polls to the publication decision (stage publisher).
    articles_found: str = "monitor.articles.found"
    #: Compacted changelog of the publication decision's state (the articles
    #: published and their recorded sources), partitioned like ``articles_found``.
    articles_seen: str = "monitor.articles.seen"

    def all(self) -> list[str]:
        """Every topic name, for creating them up front."""
        return list(self.model_dump().values())


_ADAPTERS: dict[type, TypeAdapter[object]] = {
    kind: TypeAdapter(kind)
    for kind in (
        Article, TaggedArticle, Alert, StoryNotification, DeadLetter, Candidates,
        StoryEntry, EmissionsEntry, NotificationEntry, SilenceEntry, DeliveryEntry,
        SeenEntry,
    )
}


def encode(message: Message) -> bytes:
    """Serialise a message to compact UTF-8 JSON."""
    return _ADAPTERS[type(message)].dump_json(message)


def decode(raw: bytes, kind: type[M]) -> M:
    """Parse and validate ``raw`` as a ``kind`` message.

    Raises :class:`DecodeError` with a one-line reason for oversized, non-JSON
    or schema-invalid input (including an unknown ``schema`` version).
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise DecodeError(f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        value = _ADAPTERS[kind].validate_json(raw)
    except ValidationError as exc:
        raise DecodeError(_summarise(exc, kind.__name__)) from exc
    assert isinstance(value, kind)
    return value


def _summarise(exc: ValidationError, kind_name: str) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(message)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"not a valid {kind_name}: {where}: {first['msg']}{more}"
