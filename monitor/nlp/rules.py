"""Tag decisions: which cue hits make a statement about an election or about
foreign interference. Pure functions of hits and their offsets.

A *hit* is a lexicon term found in the text. Cue kinds (see ``cues.yaml``):

``election`` / ``election_weak``        strong and article-context election cues;
``election_block``                     non-political elections (pope, club, board);
``interference`` / ``interference_weak`` strong and context-needing interference cues;
``foreign_marker``                     words that make interference foreign;
``interference_block``                 domestic or technical senses;
``interference_context``               denials and rebuttals;
``interference_topical``               weak cues that carry the topic on their own
                                       inside an interference article.

Rules:

* election: a strong cue, or a weak one in an article that has a strong one,
  unless a block term lies within ``block_window`` characters, or at least half
  the article's strong cues have one that near (a papal conclave), or the weak cue
  is part of an interference phrase ("influence campaign"); a vote that an
  interference cue acts on ("interference in the vote") arrives here as a
  strong cue (:mod:`monitor.nlp.scope`);
* foreign_interference: a strong cue; or a weak cue not covered by a block
  phrase, in a sentence with a foreign marker, or naming a foreign *actor* —
  a state that is not the sentence's home country (the one whose election or
  politics it is about, see :mod:`monitor.nlp.scope`) — together with a second
  state ("Russia funded Moldova's opposition"), a strong election cue ("Russia
  tried to influence the vote") or a denial ("The Kremlin denied any
  interference"). "The ruling party spread disinformation ahead of Kenya's
  election" names only its home state, so it is domestic. In an article that
  already has such a statement, a weak cue needs only one actor in the
  sentence, or none when it is *topical* ("propaganda", "the plot"), and
  denial phrases ("rejected the claim as baseless") count too: denials of
  interference and warnings against it are interference statements (not a
  denial whose object is an election cue, "denied the fraud allegations",
  which answers a claim about the vote); and a
  statement with no tag of its own that is attributed to someone continues
  the story (:func:`continues_interference`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.messages import TAG_ELECTION, TAG_FOREIGN_INTERFERENCE, Evidence

ELECTION = "election"
ELECTION_WEAK = "election_weak"
ELECTION_BLOCK = "election_block"
INTERFERENCE = "interference"
INTERFERENCE_WEAK = "interference_weak"
FOREIGN_MARKER = "foreign_marker"
INTERFERENCE_BLOCK = "interference_block"
INTERFERENCE_CONTEXT = "interference_context"
INTERFERENCE_TOPICAL = "interference_topical"
CUE_KINDS = (
    ELECTION,
    ELECTION_WEAK,
    ELECTION_BLOCK,
    INTERFERENCE,
    INTERFERENCE_WEAK,
    FOREIGN_MARKER,
    INTERFERENCE_BLOCK,
    INTERFERENCE_CONTEXT,
    INTERFERENCE_TOPICAL,
)


#: The kinds :func:`interference_evidence` can return.
_INTERFERENCE_EVIDENCE = frozenset({INTERFERENCE, INTERFERENCE_WEAK, INTERFERENCE_CONTEXT})
#: The interference cue kinds, strong or weak.
_INTERFERENCE_CUES = frozenset({INTERFERENCE, INTERFERENCE_WEAK})


@dataclass(frozen=True, slots=True)
class Hit:
    """A lexicon term in the document (offsets into the document)."""

    kind: str
    start: int
    end: int


def _covers(outer: Hit, inner: Hit) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _near(a: Hit, b: Hit, window: int) -> bool:
    return b.start - window <= a.end and a.start <= b.end + window


def has_election_context(hits: Iterable[Hit], block_window: int) -> bool:
    """True when the article has an unblocked strong election cue."""
    hits = list(hits)
    blocks = [h for h in hits if h.kind == ELECTION_BLOCK]
    return any(
        h.kind == ELECTION and not any(_near(h, b, block_window) for b in blocks) for h in hits
    )


def non_political_article(hits: Sequence[Hit], block_window: int, headline_end: int = 0) -> bool:
    """True when the article's election is not about governing a state: it has
    block terms, and at least as many of its strong election cues lie near one
    as not (a conclave story whose "no candidate had won" sentence names no
    pope; a synod's headline "Synod elects …" and its "third ballot"), or the
    headline (``hits`` before ``headline_end``) holds strong cues and all lie
    near one ("How to vote in the 2023 board election")."""
    blocks = [h for h in hits if h.kind == ELECTION_BLOCK]
    if not blocks:
        return False
    strong = [h for h in hits if h.kind == ELECTION]
    near = [any(_near(h, b, block_window) for b in blocks) for h in strong]
    blocked = sum(near)
    in_headline = [n for h, n in zip(strong, near, strict=True) if h.end <= headline_end]
    if in_headline and all(in_headline):
        return True
    return blocked > 0 and blocked >= len(strong) - blocked


def election_evidence(hits: Sequence[Hit], article_context: bool, block_window: int) -> list[Hit]:
    """The hits of one statement that make it about an election."""
    found = [h for h in hits if h.kind == ELECTION or (article_context and h.kind == ELECTION_WEAK)]
    if not found:
        return []
    # Strong cues stay unless blocked; a weak cue also goes when it and an
    # interference cue cover one another. Both filters keep the order of
    # ``found``, and most sentences need neither.
    interference = [h for h in hits if h.kind in _INTERFERENCE_CUES]
    if interference:
        found = [
            h
            for h in found
            if h.kind == ELECTION or not any(_covers(i, h) or _covers(h, i) for i in interference)
        ]
    blocks = [h for h in hits if h.kind == ELECTION_BLOCK]
    if blocks:
        found = [h for h in found if not any(_near(h, b, block_window) for b in blocks)]
    return _outermost(found)


def interference_evidence(
    hits: Sequence[Hit],
    states: int,
    article_context: bool = False,
    home: int = 0,
    document: str | None = None,
) -> list[Hit]:
    """The hits of one statement that make it about foreign interference.

    ``states`` is how many different states the statement names, ``home`` how
    many of those are its home country (so not foreign actors);
    ``article_context`` says whether the article already has an interference
    statement; ``document``, the text the hits index, lets a denial of an
    election claim be told apart (see :func:`_answers_election_claim`).
    """
    kinds = {h.kind for h in hits}
    if kinds.isdisjoint(_INTERFERENCE_EVIDENCE):
        return []  # nothing below could be found
    actors = states - home
    foreign = FOREIGN_MARKER in kinds or (
        actors >= 1
        and (states >= 2 or article_context or ELECTION in kinds or INTERFERENCE_CONTEXT in kinds)
    )
    # Built only when a hit can use them (most sentences have neither kind).
    topical = (
        {(h.start, h.end) for h in hits if h.kind == INTERFERENCE_TOPICAL}
        if article_context and INTERFERENCE_TOPICAL in kinds
        else set()
    )
    blocks = (
        [h for h in hits if h.kind == INTERFERENCE_BLOCK] if INTERFERENCE_BLOCK in kinds else []
    )
    found = []
    for hit in hits:
        if hit.kind == INTERFERENCE:
            if not any(_covers(b, hit) for b in blocks):  # "meddling in judicial proceedings"
                found.append(hit)
        elif hit.kind == INTERFERENCE_CONTEXT and article_context:
            if document is None or not _answers_election_claim(hit, hits, document):
                found.append(hit)
        elif hit.kind == INTERFERENCE_WEAK and not any(_covers(b, hit) for b in blocks):
            in_topic = article_context and (hit.start, hit.end) in topical
            if foreign or in_topic:
                found.append(hit)
    return _outermost(found)


#: What stands between a denial and the election cue it denies.
_DENIED_OBJECT = frozenset({"the", "any", "all", "these", "those"})


def _answers_election_claim(denial: Hit, hits: Sequence[Hit], document: str) -> bool:
    """Whether the context cue ``denial`` is followed by a determiner and an
    election cue ("denied the fraud allegations", "rejected any rigging
    claims"): a rebuttal of a claim about the vote, not of meddling in it.
    ("fabricated opinion polls", with no determiner, is no such denial.)"""
    return any(
        h.kind in (ELECTION, ELECTION_WEAK)
        and 0 < h.start - denial.end <= 8
        and document[denial.end : h.start].strip().lower() in _DENIED_OBJECT
        for h in hits
    )


def _outermost(hits: list[Hit]) -> list[Hit]:
    """Drop hits inside longer hits; one hit per span (of any kind: the last
    one given); return them in document order."""
    if len(hits) < 2:
        return list(hits)  # what the general case gives for zero hits or one
    by_span = {(h.start, h.end): h for h in hits}
    kept: list[Hit] = []
    # Distinct spans by start, the longest first among equal starts: a span
    # that covers another comes before it, so a span is inside a longer one
    # exactly when an earlier span ends at or after its end, i.e. when the
    # last kept one does (a dropped span ends no later than the kept span
    # that covers it). Kept spans have distinct starts: the order is document order.
    for (_, end), hit in sorted(by_span.items(), key=lambda item: (item[0][0], -item[0][1])):
        if not kept or end > kept[-1].end:
            kept.append(hit)
    return kept


def continues_interference(
    tags: Sequence[str], context: ArticleContext, refers_back: bool, shifts: bool = False
) -> bool:
    """Whether a statement with no tag of its own continues its article's
    story of foreign interference: it refers back to it ("these actions",
    "the operation", "They started using …") right after a statement of the
    story (``refers_back``, see :func:`refers_back`). LABELING.md: a unit
    takes its topic from what it refers to, not merely from standing in the
    story. An election statement referring back takes the topic as well (it
    is about both); a statement that ``shifts`` the topic ("Separately, the
    agency said …") leaves the story."""
    return (
        context.interference and refers_back and TAG_FOREIGN_INTERFERENCE not in tags and not shifts
    )


def back_reference(
    references: Sequence[str],
    pronouns: Sequence[str],
    bare: bool = False,
    determiners: Sequence[str] = ("these", "those", "such", "this", "the", "its", "their"),
) -> re.Pattern[str]:
    """The pattern of a back-reference: "these actions", "the wider operation",
    "400 accounts", or a sentence opened (after a connective) by one of ``pronouns``."""
    heads = "|".join(re.escape(h) for h in sorted(references, key=len, reverse=True)) or "(?!)"
    opening = "|".join(re.escape(p) for p in pronouns) or "(?!)"
    bare_heads = rf"|^(?:{heads})\b" if bare else ""
    dets = "|".join(re.escape(d) for d in sorted(determiners, key=len, reverse=True)) or "(?!)"
    return re.compile(
        rf"(?i)\b(?:{dets}|\d[\d,.]*)\s+(?:[\w-]+\s+){{0,2}}(?:{heads})\b"
        rf"|^(?:(?:however|but|and|in fact|instead|indeed|yet|so),?\s+)?(?:{opening})\b"
        + bare_heads
    )


def to_evidence(tag: str, hits: Iterable[Hit], document: str) -> list[Evidence]:
    return [Evidence(tag, document[h.start : h.end], h.start, h.end) for h in hits]


@dataclass(frozen=True, slots=True)
class ArticleContext:
    """What the whole article says, for cues that need it."""

    election: bool
    interference: bool
    block_window: int
    #: The article is about a non-political election (:func:`non_political_article`):
    #: no statement of it is an election statement.
    election_blocked: bool = False


def decide_tags(
    hits: Sequence[Hit], states: int, context: ArticleContext, document: str, home: int = 0
) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
    """Tags and evidence for one statement's hits (``states``/``home`` as in
    :func:`interference_evidence`)."""
    tags: list[str] = []
    evidence: list[Evidence] = []
    election = (
        []
        if context.election_blocked
        else election_evidence(hits, context.election, context.block_window)
    )
    if election:
        tags.append(TAG_ELECTION)
        evidence.extend(to_evidence(TAG_ELECTION, election, document))
    interference = interference_evidence(hits, states, context.interference, home, document)
    if interference:
        tags.append(TAG_FOREIGN_INTERFERENCE)
        evidence.extend(to_evidence(TAG_FOREIGN_INTERFERENCE, interference, document))
    return tuple(tags), tuple(evidence)
