"""The messages that flow between stages, one frozen dataclass per stage.

Each top-level message carries a ``schema`` field naming its type and version
("article/1"). A consumer rejects a message whose schema it does not know,
which sends it to the dead-letter topic instead of misreading it. To change a
message incompatibly, add a new version and keep decoding the old one until
no producer writes it.

Serialisation lives in :mod:`monitor.bus.codec`; this module only says what
the messages are.

Offsets (``start``/``end``) are Python string indices. In a
:class:`TaggedArticle` they index :attr:`TaggedArticle.document`, which is
the headline, a line break, then the article body: the same text the
``monitor tag`` command reads. In an :class:`Alert` (``alert/2``) and a
:class:`StoryNotification` every offset counts from the string it sits
beside: a statement's matches, evidence and entities index that statement's
own text, whose own ``start`` is 0 and ``end`` its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TAG_ELECTION = "election"
TAG_FOREIGN_INTERFERENCE = "foreign_interference"
TAGS: tuple[str, ...] = (TAG_ELECTION, TAG_FOREIGN_INTERFERENCE)


@dataclass(frozen=True, slots=True)
class Source:
    """A feed that carried an article."""

    feed_id: str
    feed_url: str
    entry_url: str = ""


@dataclass(frozen=True, slots=True)
class Article:
    """Stage 1 → 2: an article found by a poller (topic ``articles``).

    ``id`` is stable across feeds and restarts: a hash of the entry's GUID
    when it is a URL-like permalink, else of the canonical article URL.
    """

    id: str
    url: str
    title: str
    text: str
    #: Where ``text`` came from: "content", "summary", "page" or "none".
    text_source: str
    feed_id: str
    sources: tuple[Source, ...]
    fetched_at: str  # ISO-8601 UTC
    published: str | None = None  # ISO-8601 UTC
    author: str | None = None
    language: str | None = None
    schema: Literal["article/1"] = "article/1"

    @property
    def document(self) -> str:
        """The text the NLP stage tags: headline, line break, body (:func:`document_of`)."""
        return document_of(self.title, self.text)


# -- the headline rule: a headline is told once ------------------------------------
# Both halves live here. The poller drops a first paragraph that repeats the
# headline from the body it publishes (:func:`without_headline`); every tagged
# document starts with the headline unless its body already opens with it
# (:func:`document_of`), which also covers bodies from elsewhere (``monitor tag``,
# texts whose first paragraph runs on after the headline).


def without_headline(text: str, title: str) -> str:
    """``text`` without a first paragraph that repeats the headline ``title`` (pages
    start with their h1), compared without case and with whitespace collapsed."""
    first, _, rest = text.partition("\n")
    same = " ".join(first.split()).casefold() == " ".join(title.split()).casefold()
    return rest if title and same else text


def document_of(title: str, text: str) -> str:
    """Headline, line break, body; just the body when it opens with the headline, so
    the headline is one statement, not two."""
    if not title or text.lstrip().startswith(title.strip()):
        return text
    return f"{title}\n{text}"


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled stretch of text, by offsets into the tagged document."""

    text: str
    start: int
    end: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """The words that justify a tag on a statement."""

    tag: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Statement:
    """One sentence (or headline) of an article with its tags and speaker."""

    text: str
    start: int
    end: int
    tags: tuple[str, ...] = ()
    speaker: str | None = None
    quote: str | None = None
    evidence: tuple[Evidence, ...] = ()
    #: Entities inside this statement (offsets into the document).
    entities: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """What later stages need to know about the article a statement came from."""

    id: str
    url: str
    title: str
    feed_id: str
    sources: tuple[Source, ...] = ()
    published: str | None = None
    #: When the poller fetched the article; end-to-end latency is measured from it.
    fetched_at: str | None = None
    #: The article's language as the NLP stage identified it (ISO 639-1), when known.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class TaggedArticle:
    """Stage 2 → 3: an article split into tagged statements (topic ``statements``)."""

    article: ArticleRef
    document: str
    statements: tuple[Statement, ...]
    entities: tuple[Span, ...] = ()
    boilerplate: tuple[Span, ...] = ()
    schema: Literal["tagged-article/1"] = "tagged-article/1"


@dataclass(frozen=True, slots=True)
class Match:
    """A rule term found in a statement, by offsets into the statement text."""

    term: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Alert:
    """Stage 3 → delivery: a rule fired on a statement (topic ``alerts``).

    ``id`` is deterministic (rule + statement fingerprint), so the same
    statement seen again, from any feed, yields the same id; receivers use it
    as the idempotency key. The statement's offsets count from its own text
    (``alert/2``; in ``alert/1`` evidence and entities indexed the document).
    """

    id: str
    rule: str
    severity: str
    statement: Statement
    article: ArticleRef
    matches: tuple[Match, ...]
    created_at: str  # ISO-8601 UTC
    labels: dict[str, str] = field(default_factory=dict)
    #: Every source known to have carried the story when the alert was made.
    sources: tuple[Source, ...] = ()
    schema: Literal["alert/2"] = "alert/2"


@dataclass(frozen=True, slots=True)
class RuleFired:
    """A rule that fired on a statement of a story, with the words it matched."""

    rule: str
    severity: str
    #: The per-statement alert id of this rule on this statement.
    alert_id: str
    matches: tuple[Match, ...]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoryStatement:
    """A statement of a story and every rule that fired on it."""

    statement: Statement
    article: ArticleRef
    rules: tuple[RuleFired, ...]


@dataclass(frozen=True, slots=True)
class StoryNotification:
    """Stage 3 → delivery: everything that fired on one story (topic ``alerts``).

    A story is an article and its syndicated copies. ``id`` stays the same
    for the story's life; each time new material arrives (a statement, a rule
    firing, a source) the sink publishes it again with ``revision`` + 1.
    ``severity`` is the highest of ``rules``; ``article`` the story's first.
    """

    id: str
    revision: int
    severity: str
    rules: tuple[str, ...]
    article: ArticleRef
    statements: tuple[StoryStatement, ...]
    sources: tuple[Source, ...]
    created_at: str  # ISO-8601 UTC, first revision
    updated_at: str  # ISO-8601 UTC, this revision
    schema: Literal["story/1"] = "story/1"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message no stage could handle, kept with the reason (topic ``deadletter``)."""

    topic: str
    key: str | None
    #: The original value, decoded as UTF-8 with replacement, capped in size.
    value: str
    reason: str
    error_kind: str
    stage: str
    failed_at: str
    partition: int | None = None
    offset: int | None = None
    schema: Literal["dead-letter/1"] = "dead-letter/1"


@dataclass(frozen=True, slots=True)
class Candidates:
    """One article's candidate alerts, one per rule hit in order, on their way from
    rule matching to the story decisions (topic ``alerts_candidates``)."""

    article_id: str
    alerts: tuple[Alert, ...]
    schema: Literal["candidates/1"] = "candidates/1"


@dataclass(frozen=True, slots=True)
class StoryEntry:
    """A story the sink knows, as kept in its state changelog (key ``story:<alert id>``)."""

    alert: Alert
    #: The statement text, normalised as the de-duplication compares it.
    text: str
    first_seen: float
    article_ids: tuple[str, ...]
    schema: Literal["story-entry/1"] = "story-entry/1"


@dataclass(frozen=True, slots=True)
class EmissionsEntry:
    """When a rule last emitted new stories, for its rate limit (key ``emissions:<rule>``)."""

    rule: str
    times: tuple[float, ...]
    schema: Literal["emissions-entry/1"] = "emissions-entry/1"


@dataclass(frozen=True, slots=True)
class NotificationEntry:
    """A story's notification as last published and the per-statement alert ids that
    belong to it (key ``notification:<id>``)."""

    notification: StoryNotification
    updated: float
    members: tuple[str, ...]
    schema: Literal["notification-entry/1"] = "notification-entry/1"


@dataclass(frozen=True, slots=True)
class SilenceEntry:
    """A silence as kept on the silences topic (key: its id); ending one early
    writes it again with the new ``ends``."""

    id: str
    starts: float
    ends: float
    rule: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    comment: str = ""
    schema: Literal["silence/1"] = "silence/1"


@dataclass(frozen=True, slots=True)
class DeliveryEntry:
    """A receiver's last outcome for an alert or a story's revision, as kept on the
    delivery changelog (key ``<receiver> <alert id>``)."""

    alert_id: str
    receiver: str
    status: str
    revision: int
    at: float
    schema: Literal["delivery-entry/1"] = "delivery-entry/1"


@dataclass(frozen=True, slots=True)
class SeenEntry:
    """An article the poller role published, as kept in the publisher stage's state
    changelog (topic ``articles_seen``, key = article id): when it was first
    published, its URL and every source recorded for it, in the order published."""

    article_id: str
    first_seen: float
    url: str
    sources: tuple[Source, ...]
    schema: Literal["seen-entry/1"] = "seen-entry/1"


#: What the alert sink's state changelog holds.
StateEntry = StoryEntry | EmissionsEntry | NotificationEntry

Message = (
    Article | TaggedArticle | Alert | StoryNotification | DeadLetter | Candidates
    | StoryEntry | EmissionsEntry | NotificationEntry | SilenceEntry | DeliveryEntry
    | SeenEntry
)
