"""Turn statement spans, entities and cue hits into :class:`Statement` objects.

Pure: everything here is a function of the document text and what the
matchers found. Speakers are resolved in document order by a
:class:`~monitor.nlp.memory.SpeakerMemory`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol, TypeVar

from monitor.messages import TAG_ELECTION, TAG_FOREIGN_INTERFERENCE, Evidence, Span, Statement
from monitor.nlp.framing import Frames, FramingRules, find_frames
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
from monitor.nlp.subjects import in_opening_clause, opening_subject, subject_attribution
from monitor.nlp.terms import EntityHit
from monitor.nlp.words import Word, outside, words_of


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
    #: How official documents frame their author; None: framing is not read.
    framing: FramingRules | None = None
    #: Back-references that carry an interference story on
    #: (:func:`~monitor.nlp.rules.back_reference`).
    references: re.Pattern[str] | None = None
    #: Back-references that carry an election story on.
    election_references: re.Pattern[str] | None = None
    #: The author a feed entry gives, for a frame that names nobody.
    author: str | None = None


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


_CAPITALISED_BEFORE = re.compile(r"[A-Z][\w’'.-]*\s+$")


def _not_in_capitalised_names(document: str, hits: list[Hit], start: int) -> list[Hit]:
    """``hits`` without weak interference cues written as part of a name the
    gazetteer does not know: a capitalised cue after a capitalised word, past
    the sentence's first word ("the German Marshall Fund", "Foreign Assets
    Control"), unless the line is in title case (a headline: "Russia Funds …")."""
    if not any(h.kind in _NOT_IN_NAMES and document[h.start].isupper() for h in hits):
        return hits
    line_start = document.rfind("\n", 0, start) + 1
    line_end = document.find("\n", start)
    line = document[line_start : line_end if line_end >= 0 else len(document)]
    words = line.split()
    if words and sum(w[:1].isupper() for w in words) / len(words) > 0.6:
        return hits
    return [
        h
        for h in hits
        if h.kind not in _NOT_IN_NAMES
        or not document[h.start].isupper()
        or h.start == start
        or _CAPITALISED_BEFORE.search(document, max(start, h.start - 40), h.start) is None
    ]


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
    article_homes: set[str] = set()
    place_homes: set[str] = set()
    for start, end in spans:
        own_entities = _between(entities, entity_starts, start, end)
        own_hits = _between(hits, hit_starts, start, end)
        if own_hits:
            own_hits = _not_in_capitalised_names(document, _unnegated(document, own_hits), start)
        if own_hits and own_entities:
            own_hits = _targeted(document, _outside_names(own_hits, own_entities), own_entities)
        homes: frozenset[str] = frozenset()
        if own_hits and scope is not None:
            own_hits = own_hits + scope.targeted_votes(document, end, own_hits)
            homes = scope.home_states(document, (start, end), own_entities, own_hits)
            if homes:  # a home by a home word, not merely as a place, holds article-wide
                article_homes.update(
                    scope.home_states(document, (start, end), own_entities, own_hits, places=False)
                )
                place_homes.update(homes)
        parts.append(new(_Parts, (start, end, own_entities, own_hits, len(homes))))
    if not article_homes:
        # The one state the article names, named as the place where its
        # politics happen ("judges in Pakistan"), is home throughout: its own
        # spy agency meddling in its own courts is no foreign actor.
        article_homes = _sole_place_home(document, parts, entities, place_homes, scope)
        if not article_homes:
            return parts
    # A state that is the home of the article's politics in one sentence ("to
    # mislead the American public") stays home in the others ("voter pressure
    # at U.S. military bases"): the election's own country is no foreign actor.
    return [
        p._replace(home=len({e.country for e in p.entities if e.country} & article_homes))
        if p.hits and p.entities
        else p
        for p in parts
    ]


def _sole_place_home(
    document: str,
    parts: list[_Parts],
    entities: Sequence[EntityHit],
    place_homes: set[str],
    scope: ScopeRules | None,
) -> set[str]:
    """The one state ``entities`` name, when a sentence names it as a place
    (``place_homes`` holds those of the sentences with cues); else nothing.
    Only an article with cues can use it, so no other pays for the search."""
    named = {e.country for e in entities if e.country}
    if len(named) != 1 or scope is None or not any(p.hits for p in parts):
        return set()
    for part in parts:
        if place_homes >= named:
            break
        if part.entities and not part.hits:
            bounds = (part.start, part.end)
            place_homes.update(scope.home_states(document, bounds, part.entities, ()))
    return place_homes if place_homes == named else set()


def _has_speech(positions: list[int] | None, start: int, end: int) -> bool:
    if positions is None:
        return True
    first = bisect_left(positions, start)
    return first < len(positions) and positions[first] < end


_REFERENCE_OPENING = re.compile(
    r"(?:(?:However|But|And|In fact|Indeed|Yet),?\s+)?(?:These|Those|They|Such|This|It)\b"
)


def _opens_with_reference(text: str) -> bool:
    return _REFERENCE_OPENING.match(text) is not None


def _pronoun_in_relative(found: Attribution, words: list[Word]) -> bool:
    """Whether ``found`` is a pronoun right after "what", "which" or "as"."""
    if found.pronoun is None:
        return False
    index = next((i for i, w in enumerate(words) if w.start == found.start), 0)
    return index > 0 and words[index - 1].key in ("what", "which", "as")


def _words(text: str, quotes: list[tuple[int, int]]) -> list[Word]:
    words = words_of(text)
    return outside(words, quotes) if quotes else words


def _refers_back(
    references: re.Pattern[str] | None, text: str, before: list[Statement], tag: str
) -> bool:
    """Whether ``text`` refers back to the story of ``tag`` told in one of the
    two statements right before it."""
    if references is None or not any(tag in s.tags for s in before[-2:]):
        return False
    return references.search(text) is not None


def _carried(
    document: str,
    span: tuple[int, int],
    references: re.Pattern[str],
    tag: str,
    tags: tuple[str, ...],
    evidence: tuple[Evidence, ...],
) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
    """``tags`` and ``evidence`` with ``tag`` added, its evidence the back-reference."""
    start, end = span
    match = references.search(document[start:end])  # "^" must see the sentence's start
    assert match is not None
    first, last = start + match.start(), start + match.end()
    added = Evidence(tag, document[first:last], first, last)
    ordered = tuple(t for t in (TAG_ELECTION, TAG_FOREIGN_INTERFERENCE) if t in tags or t == tag)
    return ordered, (*evidence, added)


def _continued(
    document: str, span: tuple[int, int], context: Context, quotes: list[tuple[int, int]]
) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
    """The tag and evidence of the statement at ``span`` that continues an
    interference story: the evidence is the back-reference ("these actions"),
    or, failing that, the quotation or the sentence."""
    start, end = span
    text = document[start:end]
    match = context.references.search(text) if context.references is not None else None
    if match is not None:
        first, last = start + match.start(), start + match.end()
    elif quotes:
        first, last = start + quotes[0][0], start + quotes[0][1]
    else:
        first, last = start, end
    evidence = Evidence(TAG_FOREIGN_INTERFERENCE, document[first:last], first, last)
    return (TAG_FOREIGN_INTERFERENCE,), (evidence,)


def _line_subject(speech: SpeechRules) -> Callable[[str], Attribution | None]:
    """Who a line of a document says made a statement (for framing)."""

    def subject(line: str) -> Attribution | None:
        quotes = quote_spans(line)
        return find_attribution(line, quotes, speech) or subject_attribution(line, quotes, speech)

    return subject


#: How far back (characters) a sentence's speaker is looked for.
_EARLIER_REACH = 20_000

_COLON_QUOTE = re.compile(r":\s*[“\"«]")

#: A statement that is only a stage direction: "(laughter)", "(applause)".
_STAGE_DIRECTION = re.compile(r"^\([^()]{1,40}\)$")


def _framed(
    speaker: str | None,
    found: Attribution | None,
    frames: Frames,
    number: int,
    text: str,
    reported: re.Pattern[str],
) -> str | None:
    """The speaker of statement ``number`` given the document's framing: a
    header or byline is nobody's statement; a transcript turn is its
    speaker's; under a frame, a sentence is the author's unless it names a
    third party itself in reported speech ("…, said the minister", "The
    newspaper has made clear …"; ``found`` is the sentence's attribution), its
    author's own name or "we" excepted."""
    if number in frames.frame_lines or _STAGE_DIRECTION.match(text):
        return None
    turn = frames.turns[number]
    if turn is not None:
        return turn
    author = frames.authors[number]
    if author is None:
        return speaker
    # Only reported speech names a third party; "The EU notes …", "The UK
    # condemns …" under a frame are the author speaking.
    if (
        found is not None
        and found.pronoun is None
        and speaker is not None
        and not _same_party(speaker, author)
        and reported.search(text) is not None
    ):
        return speaker
    return author


def _same_party(speaker: str, author: str) -> bool:
    own, theirs = speaker.lower().removeprefix("the "), author.lower()
    return own in ("we", "i") or own in theirs or theirs in own


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
    memory = SpeakerMemory(context.speech, gender_words=context.speech.gender)
    frames = (
        find_frames(document, spans, context.framing, _line_subject(context.speech), context.author)
        if context.framing is not None
        else Frames.none(len(parts))
    )
    statements: list[Statement] = []
    previous_quoted = False
    # The story is told once a statement carries the tag, even when no statement
    # alone made the article one of interference ("These have included
    # disinformation campaigns …" after "threats from Russia").
    told, story = False, replace(article, interference=True)
    speech, speech_at = context.speech, context.speech_at
    for number, part in enumerate(parts):
        start, end, own_entities = part.start, part.end, part.entities
        text = document[start:end]
        if own_entities:
            memory.learn_names(own_entities)
        quotes = quote_spans(text)
        # A quotation after a colon is speech too ("… sounded an alarm: “…”").
        has_speech = _has_speech(speech_at, start, end) or (
            bool(quotes) and _COLON_QUOTE.search(text) is not None
        )
        words = _words(text, quotes) if has_speech else None
        strict = (
            find_attribution(text, quotes, speech, prechecked=True, words=words)
            if has_speech
            else None
        )
        if strict is not None and words and _pronoun_in_relative(strict, words):
            # "The Helsinki Commission met to discuss what it called …": the
            # pronoun is the sentence's own subject.
            strict = opening_subject(text, words, speech) or strict
        if strict is not None and words and in_opening_clause(text, words, strict.start):
            # The main clause's speaker comes first: "Hours before the electoral
            # commission announced …, the party declared …" is the party's.
            strict = subject_attribution(text, quotes, speech, words, main_only=True) or strict
        found = strict or (subject_attribution(text, quotes, speech, words) if has_speech else None)
        # What came before, as far back as a name or description reaches (a
        # bound, so a long text costs linear time, not quadratic).
        back = max(0, start - _EARLIER_REACH)
        surname = found is not None and found.pronoun is None and " " not in found.name
        if found is not None and surname and found.name[:1].isupper():
            # A surname: the fuller name written before it.
            fuller = memory.written_before(memory.expand(found.name), document[back:start])
            if fuller != found.name:
                memory.full_names.append(fuller)
        speaker = (
            # A definite description may refer back into its own sentence:
            # "Members of the Baltic Port Workers' Union …, the union said".
            memory.resolve(found, own_entities, start, document[back : start + found.start])
            if found
            else None
        )
        if speaker is None and strict is not None and has_speech:
            # A description that names nobody before ("The government has
            # denied …"): the sentence's subject, as written.
            subject = subject_attribution(text, quotes, speech, words)
            if subject is not None and subject.pronoun is None:
                earlier = document[back : start + subject.start]
                speaker = memory.resolve(subject, own_entities, start, earlier)
        if speaker is None and previous_quoted and text[:1] in '“"':
            speaker = statements[-1].speaker
        speaker = _framed(speaker, found, frames, number, text, speech.reported)
        previous_quoted = bool(quotes) and speaker is not None
        memory.mentioned(own_entities, text)
        states = part.states
        if part.hits and number and _opens_with_reference(text):
            # "These have included disinformation campaigns …" after "threats
            # from Russia": the states the sentence refers back to are its own.
            states += parts[number - 1].states
        tags, evidence = (
            decide_tags(part.hits, states, article, document, part.home) if part.hits else ((), ())
        )
        if (
            context.election_references is not None
            and article.election
            and not article.election_blocked
            and TAG_ELECTION not in tags
            and _refers_back(context.election_references, text, statements, TAG_ELECTION)
        ):
            tags, evidence = _carried(
                document, (start, end), context.election_references, TAG_ELECTION, tags, evidence
            )
        if (article.interference or told) and continues_interference(  # most articles are not
            tags,
            story,
            _refers_back(context.references, text, statements, TAG_FOREIGN_INTERFERENCE),
            text.lower().startswith(context.topic_shifts),
        ):
            more, added = _continued(document, (start, end), context, quotes)
            tags, evidence = (*tags, *more), (*evidence, *added)
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
        told = told or TAG_FOREIGN_INTERFERENCE in tags
    return statements
