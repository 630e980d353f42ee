"""One alert per story: the pure decision taken for each rule hit.

Given a candidate alert, what is known about recent stories of the same
rule, recent emissions and active silences, :func:`decide` says what to do
at ``now``. It performs no I/O; :mod:`monitor.alerts.state` stores the
inputs and applies the outcome.

Outcomes:

``emit``     a new story: publish the candidate.
``update``   a late extra source for a story already alerted (a syndicated
             copy, a near-duplicate text from another outlet making the same
             claim: same speaker, negations and word order; or an article of
             the story published again because another feed now carries it
             too): publish the stored alert again, same id, with the new
             sources added. Delivery records the merged sources in the history
             but does not call a receiver twice for one id.
``replay``   an article of the story is being read again with no source the
             alert does not list yet (a restart before the offset was
             committed): publish the stored alert unchanged, so nothing is
             lost; delivery skips receivers that already have it.
``suppress`` with a reason: ``silenced``, ``duplicate`` (same story, no new
             source), ``repeat`` (the same statement after the story window,
             within the repeat window) or ``rate_limited``.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

from monitor.alerts.lookup import Lookup, plain_lookup
from monitor.alerts.matching import normalise
from monitor.messages import Alert, Source, Statement

#: Words that deny or invert a statement. Two statements that differ in them say
#: different things however alike the rest of their words ("must accept" / "must
#: not accept"), so they are never one story. English, like the NLP stage.
#: "cannot" and every "n't" contraction count as "not", so an outlet that spells
#: out "won't" does not split a story.
NEGATIONS: frozenset[str] = frozenset({
    "not", "no", "never", "neither", "nor", "without", "none", "nobody", "nothing",
    "nowhere", "cannot",
})
_NEGATION_ALIASES = {"cannot": "not"}
_CONTRACTION = "n't"
#: Apostrophes kept inside a word so that "don't" stays one token here.
_WORD = re.compile(r"\w+(?:'\w+)*")

#: Minimum agreement (0-100) in the order of the words two statements share.
#: Token-set similarity ignores order, so "Russia says the opposition must
#: accept defeat" and "The opposition says Russia must accept defeat" score 100;
#: their shared words in order agree only ~71. Syndicated copies add, drop or
#: move a phrase ("on Tuesday") and stay well above. A swap of two one-word
#: names in a long sentence still passes: the speaker check is what stops that.
MIN_ORDER_AGREEMENT = 75.0
#: Two texts whose lengths differ more than this ratio are never one story.
MIN_LENGTH_RATIO = 0.6

Action = Literal["emit", "update", "replay", "suppress"]
SuppressReason = Literal["silenced", "duplicate", "repeat", "rate_limited"]


@dataclass(frozen=True, slots=True)
class Story:
    """An alerted story: the alert as last published and who carried it."""

    alert: Alert
    text: str  # normalised statement text
    first_seen: float
    article_ids: frozenset[str]
    #: ``text``'s distinct words, sorted (:func:`word_set`), derived once: every
    #: later candidate of the rule is compared with it.
    words: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", word_set(self.text))


@dataclass(frozen=True, slots=True)
class Silence:
    """Alerts of ``rule`` (if set) carrying all ``labels`` are not raised in [starts, ends)."""

    id: str
    starts: float
    ends: float
    rule: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    comment: str = ""

    def covers(self, alert: Alert, now: float) -> bool:
        if not self.starts <= now < self.ends:
            return False
        if self.rule is not None and self.rule != alert.rule:
            return False
        return all(alert.labels.get(k) == v for k, v in self.labels)


@dataclass(frozen=True, slots=True)
class Policy:
    story_window_s: float
    similarity: float
    repeat_window_s: float
    rate_limit_count: int
    rate_limit_per_s: float
    #: Newest stories of the rule a candidate is compared with (see DedupSettings).
    max_candidates: int = 300


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    #: What to publish (emit/update/replay); None when suppressed.
    alert: Alert | None = None
    reason: SuppressReason | None = None
    #: The story to store afterwards, if it changed.
    story: Story | None = None


def decide(
    candidate: Alert,
    stories: Sequence[Story],
    emissions: Sequence[float],
    silences: Sequence[Silence],
    now: float,
    policy: Policy,
    lookup: Lookup = plain_lookup,
) -> Decision:
    """What to do with ``candidate`` (see module docstring).

    ``stories`` are the rule's stories first seen within the repeat window,
    ``emissions`` the times the rule emitted a new story recently; ``lookup``
    scores the candidate's words against theirs (:mod:`monitor.alerts.lookup`).
    """
    text = normalise(candidate.statement.text)
    story = find_story(candidate, text, stories, now, policy, lookup)
    article_id = candidate.article.id
    if story is not None and article_id in story.article_ids:
        return _again(story, candidate)
    if any(s.covers(candidate, now) for s in silences):
        return Decision("suppress", reason="silenced")
    if story is not None:
        return _merge(story, candidate, now, policy)
    window_start = now - policy.rate_limit_per_s
    if sum(1 for t in emissions if t > window_start) >= policy.rate_limit_count:
        return Decision("suppress", reason="rate_limited")
    new_story = Story(candidate, text, now, frozenset({article_id}))
    return Decision("emit", alert=candidate, story=new_story)


def find_story(
    candidate: Alert, text: str, stories: Sequence[Story], now: float, policy: Policy,
    lookup: Lookup = plain_lookup,
) -> Story | None:
    """The story ``candidate`` belongs to: same id within the repeat window, or the
    most similar near-duplicate text (the first of equals) that makes the same claim
    (:func:`same_claim`) within the story window."""
    comparable: list[Story] = []
    rule, alert_id, length = candidate.rule, candidate.id, len(text)
    repeat_start, story_start = now - policy.repeat_window_s, now - policy.story_window_s
    # The loop runs over hundreds of stories per candidate: attributes are read
    # once and the length guard is inlined (same arithmetic as _comparable).
    for story in stories:
        alert = story.alert
        if alert.rule != rule:
            continue
        if alert.id == alert_id and story.first_seen > repeat_start:
            return story
        if story.first_seen > story_start:
            other = len(story.text)
            shorter, longer = (length, other) if length <= other else (other, length)
            if longer > 0 and shorter / longer >= MIN_LENGTH_RATIO:
                comparable.append(story)
    if not comparable:
        return None
    # Token-set similarity reads only the sets of words, so the look-up is given
    # them, split and sorted once; it scores every comparable story in C (a busy
    # rule has hundreds), skipping the work on texts that cannot reach the cutoff.
    scored = lookup(word_set(text), [s.words for s in comparable], policy.similarity)
    for score, index in sorted(scored, key=lambda found: (-found[0], found[1])):
        story = comparable[index]
        if score > 0 and same_claim(candidate.statement, story.alert.statement):
            return story
    return None


def word_set(text: str) -> str:
    """``text``'s distinct words, sorted and joined by spaces: what token-set
    similarity reads of a normalised text, so ``token_set_ratio`` gives the same
    score on them as on the texts, with less work per comparison."""
    return " ".join(sorted(set(text.split())))


def _comparable(a: str, b: str) -> bool:
    """Whether two texts' lengths let them be one story (see :func:`similarity`)."""
    shorter, longer = sorted((len(a), len(b)))
    return longer > 0 and shorter / longer >= MIN_LENGTH_RATIO


def length_band(length: int) -> tuple[int, int]:
    """The text lengths a story can have to be compared with a text of ``length``
    characters (see :func:`similarity`'s length guard); lets the store skip the rest."""
    return int(length * MIN_LENGTH_RATIO), int(length / MIN_LENGTH_RATIO) + 1


def similarity(a: str, b: str) -> float:
    """Token-set similarity (0-100) of two normalised texts.

    Token-set ratio forgives re-ordered and added words, which is what
    syndicated copies differ by; a length guard stops a short fragment from
    matching every long statement that contains its words.
    """
    if not _comparable(a, b):
        return 0.0
    return float(fuzz.token_set_ratio(a, b))


def same_claim(a: Statement, b: Statement) -> bool:
    """Whether two similar-looking statements can be one story.

    They cannot when their speakers are both known and differ, when they
    differ in negation words, or when the words they share come in a different
    order (roles swapped). Meant for pairs :func:`similarity` already scored
    high: it checks meaning, not likeness.
    """
    return (
        speakers_agree(a.speaker, b.speaker)
        and negations(a.text) == negations(b.text)
        and order_agreement(normalise(a.text), normalise(b.text)) >= MIN_ORDER_AGREEMENT
    )


def speakers_agree(a: str | None, b: str | None) -> bool:
    """True unless both speakers are known and neither name contains the other.

    Compared as sets of normalised words, so "Peskov", "Dmitry Peskov" and
    "Kremlin spokesman Dmitry Peskov" agree (outlets name people differently)
    while "Peskov" and "Lavrov" do not.
    """
    words_a, words_b = set(normalise(a or "").split()), set(normalise(b or "").split())
    if not words_a or not words_b:
        return True
    return words_a <= words_b or words_b <= words_a


def negations(text: str) -> Counter[str]:
    """The negation words of a raw statement text, counted (see :data:`NEGATIONS`)."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    found: Counter[str] = Counter()
    for word in _WORD.findall(folded):
        if word.endswith(_CONTRACTION):
            found["not"] += 1
        elif word in NEGATIONS:
            found[_NEGATION_ALIASES.get(word, word)] += 1
    return found


def order_agreement(a: str, b: str) -> float:
    """How alike (0-100) the order of the words two normalised texts share is.

    Words only one text has are left out first, so additions and deletions
    cost nothing; what remains is compared as word sequences (indel ratio).
    """
    words_a, words_b = a.split(), b.split()
    in_a, in_b = set(words_a), set(words_b)
    shared_a = [w for w in words_a if w in in_b]
    shared_b = [w for w in words_b if w in in_a]
    if not shared_a:
        return 100.0
    return float(fuzz.ratio(shared_a, shared_b))


def _again(story: Story, candidate: Alert) -> Decision:
    """An article already in ``story`` read again: ``update`` if it brings sources
    the alert does not list yet (the poller publishes an article again when
    another feed carries it), else ``replay``.

    Unlike :func:`_merge` this is no new outlet's copy of the story but the same
    article, so neither the story window nor silences hold the sources back,
    just as they do not hold back a replay.
    """
    extra = _extra_sources(story.alert, candidate)
    if not extra:
        return Decision("replay", alert=story.alert)
    alert = dataclasses.replace(story.alert, sources=story.alert.sources + extra)
    return Decision("update", alert=alert, story=dataclasses.replace(story, alert=alert))


def _merge(story: Story, candidate: Alert, now: float, policy: Policy) -> Decision:
    article_ids = story.article_ids | {candidate.article.id}
    if story.first_seen <= now - policy.story_window_s:
        return Decision("suppress", reason="repeat",
                        story=dataclasses.replace(story, article_ids=article_ids))
    extra = _extra_sources(story.alert, candidate)
    if not extra:
        return Decision("suppress", reason="duplicate",
                        story=dataclasses.replace(story, article_ids=article_ids))
    alert = dataclasses.replace(story.alert, sources=story.alert.sources + extra)
    updated = dataclasses.replace(story, alert=alert, article_ids=article_ids)
    return Decision("update", alert=alert, story=updated)


def _extra_sources(alert: Alert, candidate: Alert) -> tuple[Source, ...]:
    """The sources of ``candidate`` that ``alert`` does not list, in order, once each."""
    known = {_source_key(s) for s in alert.sources}
    extra: list[Source] = []
    for source in candidate.sources:
        if _source_key(source) not in known:
            known.add(_source_key(source))
            extra.append(source)
    return tuple(extra)


def _source_key(source: Source) -> tuple[str, str]:
    return (source.feed_id, source.entry_url)
