"""Turn statement spans, entities and cue hits into :class:`Statement` objects.

Pure: everything here is a function of the document text and what the
matchers found. Speakers are resolved in document order by a
:class:`~monitor.nlp.memory.SpeakerMemory`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

from monitor.messages import TAG_FOREIGN_INTERFERENCE, Evidence, Span, Statement
from monitor.nlp.memory import SpeakerMemory
from monitor.nlp.names import Attribution
from monitor.nlp.rules import (
    FOREIGN_MARKER,
    INTERFERENCE_WEAK,
    ArticleContext,
    Hit,
    continues_interference,
    decide_tags,
    interference_evidence,
)
from monitor.nlp.scope import ScopeRules
from monitor.nlp.segment import quote_spans, quote_text
from monitor.nlp.speakers import find_attribution
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.terms import EntityHit


@dataclass(frozen=True, slots=True)
class Context:
    """Article-level facts the statement rules need."""

    speech: SpeechRules
    election_context: bool
    block_window: int
    #: Sorted offsets of speech verbs in the document; sentences without one
    #: skip attribution. None: look in every sentence.
    speech_at: list[int] | None = None
    #: Home states and targeted votes (:mod:`monitor.nlp.scope`); None: off.
    scope: ScopeRules | None = None
    #: The article's elections are not political (:func:`~monitor.nlp.rules.non_political_article`).
    election_blocked: bool = False
    #: Lowercase openings of a sentence that leaves the story ("separately").
    topic_shifts: tuple[str, ...] = ()


class _Parts(NamedTuple):
    """One statement's share of what the matchers found (a tuple: one per sentence)."""

    start: int
    end: int
    entities: list[EntityHit]
    hits: list[Hit]
    #: How many of the named states are the sentence's home country.
    home: int = 0

    @property
    def states(self) -> int:
        return len({e.country for e in self.entities if e.country})


_TARGET_LINK = re.compile(r"\s+(?:in|into)\s+(?:the\s+)?$")
#: Cue kinds that mean nothing inside a name: the "Fund" of "International
#: Monetary Fund", the "Foreign" of "Foreign Ministry". (An election word in
#: "Central Election Commission" still says the sentence is about elections.)
_NOT_IN_NAMES = frozenset({INTERFERENCE_WEAK, FOREIGN_MARKER})


#: What, right before a foreign marker, denies it: "not from abroad".
_NEGATION = re.compile(r"(?i)\b(?:not|never|rather than|instead of)\s+$")


def _unnegated(document: str, hits: list[Hit]) -> list[Hit]:
    """``hits`` without the foreign markers a negation denies ("made by local
    party workers, not from abroad": nothing foreign is said), nor the markers
    inside those ("abroad")."""
    denied = [
        hit
        for hit in hits
        if hit.kind == FOREIGN_MARKER
        and _NEGATION.search(document, max(0, hit.start - 16), hit.start) is not None
    ]
    if not denied:
        return hits
    return [hit for hit in hits if hit.kind != FOREIGN_MARKER or not _inside_any(hit, denied)]


def _inside_any(hit: Hit, spans: Sequence[EntityHit] | Sequence[Hit]) -> bool:
    """Whether ``hit`` lies inside one of ``spans``."""
    return any(s.start <= hit.start and hit.end <= s.end for s in spans)


def _outside_names(hits: list[Hit], entities: list[EntityHit]) -> list[Hit]:
    """``hits`` without the weak interference cues and foreign markers that lie
    inside an entity's name."""
    return [hit for hit in hits if hit.kind not in _NOT_IN_NAMES or not _inside_any(hit, entities)]


def _targeted(document: str, hits: list[Hit], entities: list[EntityHit]) -> list[Hit]:
    """Mark weak interference aimed at a named state ("interference in German
    politics") as foreign: a domestic actor is not said to meddle *in* its own state."""
    marks = []
    for hit in hits:
        if hit.kind != INTERFERENCE_WEAK:
            continue
        for entity in entities:
            gap = document[hit.end : entity.start]
            if entity.country and 0 < len(gap) <= 12 and _TARGET_LINK.match(gap):
                marks.append(Hit(FOREIGN_MARKER, entity.start, entity.end))
    return hits + marks if marks else hits


class _Located(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


_L = TypeVar("_L", bound=_Located)


def _between(items: Sequence[_L], starts: list[int], lo: int, hi: int) -> list[_L]:
    """Items lying inside ``[lo, hi)``; ``starts`` are the sorted item starts."""
    first = bisect_left(starts, lo)
    last = bisect_left(starts, hi, first)  # items from here on start at or after hi
    return [item for item in items[first:last] if item.end <= hi]


def _split(
    document: str,
    spans: Sequence[tuple[int, int]],
    entities: Sequence[EntityHit],
    hits: Sequence[Hit],
    scope: ScopeRules | None = None,
) -> list[_Parts]:
    new = tuple.__new__  # ``_Parts(...)`` without the keyword handling
    if not entities and not hits:  # the common case: nothing to share out
        return [new(_Parts, (start, end, [], [], 0)) for start, end in spans]
    entities = sorted(entities, key=lambda e: e.start)
    hits = sorted(hits, key=lambda h: h.start)
    entity_starts = [e.start for e in entities]
    hit_starts = [h.start for h in hits]
    parts = []
    for start, end in spans:
        own_entities = _between(entities, entity_starts, start, end)
        own_hits = _between(hits, hit_starts, start, end)
        if own_hits:
            own_hits = _unnegated(document, own_hits)
        if own_hits and own_entities:
            own_hits = _targeted(document, _outside_names(own_hits, own_entities), own_entities)
        home = 0
        if own_hits and scope is not None:
            own_hits = own_hits + scope.targeted_votes(document, end, own_hits)
            home = len(scope.home_states(document, (start, end), own_entities, own_hits))
        parts.append(new(_Parts, (start, end, own_entities, own_hits, home)))
    return parts


def _has_speech(positions: list[int] | None, start: int, end: int) -> bool:
    if positions is None:
        return True
    first = bisect_left(positions, start)
    return first < len(positions) and positions[first] < end


def _continued(
    document: str,
    span: tuple[int, int],
    found: Attribution | None,
    quotes: list[tuple[int, int]],
) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
    """The tag and evidence of the statement at ``span`` that continues an
    interference story: the evidence is who speaks ("the Russian embassy"),
    or, for a quotation going on from the sentence before, the quotation."""
    start, end = span
    if found is not None:
        first, last = start + found.start, start + found.end
    elif quotes:
        first, last = start + quotes[0][0], start + quotes[0][1]
    else:
        first, last = start, end
    evidence = Evidence(TAG_FOREIGN_INTERFERENCE, document[first:last], first, last)
    return (TAG_FOREIGN_INTERFERENCE,), (evidence,)


def build_statements(
    document: str,
    spans: Sequence[tuple[int, int]],
    entities: Sequence[EntityHit],
    hits: Sequence[Hit],
    context: Context,
) -> list[Statement]:
    """One :class:`Statement` per span, in order."""
    parts = _split(document, spans, entities, hits, context.scope)
    article = ArticleContext(
        election=context.election_context,
        interference=any(
            p.hits and interference_evidence(p.hits, p.states, home=p.home) for p in parts
        ),
        block_window=context.block_window,
        election_blocked=context.election_blocked,
    )
    memory = SpeakerMemory(context.speech)
    statements: list[Statement] = []
    previous_quoted = False
    speech, speech_at = context.speech, context.speech_at
    for part in parts:
        start, end, own_entities = part.start, part.end, part.entities
        text = document[start:end]
        if own_entities:
            memory.learn_names(own_entities)
        quotes = quote_spans(text)
        found = (
            find_attribution(text, quotes, speech, prechecked=True)
            if _has_speech(speech_at, start, end)
            else None
        )
        if found is not None and found.pronoun is None and " " not in found.name:
            fuller = memory.written_before(memory.expand(found.name), document[:start])
            if fuller != found.name:
                memory.full_names.append(fuller)
        speaker = (
            # A definite description may refer back into its own sentence:
            # "Members of the Baltic Port Workers' Union …, the union said".
            memory.resolve(found, own_entities, start, document[: start + found.start])
            if found
            else None
        )
        if speaker is None and previous_quoted and text[:1] in '“"':
            speaker = statements[-1].speaker
        previous_quoted = bool(quotes) and speaker is not None
        if own_entities:
            memory.mentioned(own_entities)
        tags, evidence = (
            decide_tags(part.hits, part.states, article, document, part.home)
            if part.hits
            else ((), ())
        )
        if article.interference and continues_interference(  # most articles are not
            tags,
            article,
            found is not None or speaker is not None,
            text.lower().startswith(context.topic_shifts),
        ):
            tags, evidence = _continued(document, (start, end), found, quotes)
        statements.append(
            Statement(
                text,
                start,
                end,
                tags,
                speaker,
                quote_text(text, quotes) if quotes else None,
                evidence,
                tuple([Span(e.text, e.start, e.end, e.label) for e in own_entities])
                if own_entities
                else (),
            )
        )
    return statements
