"""One alert per story: the pure decision taken for each rule hit.

Given a candidate alert, what is known about recent stories of the same
rule, recent emissions and active silences, :func:`decide` says what to do
at ``now``. It performs no I/O; :mod:`monitor.alerts.state` stores the
inputs and applies the outcome.

Outcomes:

``emit``     a new story: publish the candidate.
``update``   a late extra source for a story already alerted (a syndicated
             copy, a near-duplicate text from another outlet): publish the
             stored alert again, same id, with the new source added. Delivery
             records the merged sources in the history but does not call a
             receiver twice for one id.
``replay``   the very article that raised the story is being read again
             (a restart before the offset was committed): publish the stored
             alert unchanged, so nothing is lost; delivery skips receivers
             that already have it.
``suppress`` with a reason: ``silenced``, ``duplicate`` (same story, no new
             source), ``repeat`` (the same statement after the story window,
             within the repeat window) or ``rate_limited``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from monitor.alerts.matching import normalise
from monitor.messages import Alert, Source

Action = Literal["emit", "update", "replay", "suppress"]
SuppressReason = Literal["silenced", "duplicate", "repeat", "rate_limited"]


@dataclass(frozen=True, slots=True)
class Story:
    """An alerted story: the alert as last published and who carried it."""

    alert: Alert
    text: str  # normalised statement text
    first_seen: float
    article_ids: frozenset[str]


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
) -> Decision:
    """What to do with ``candidate`` (see module docstring).

    ``stories`` are the rule's stories first seen within the repeat window,
    ``emissions`` the times the rule emitted a new story recently.
    """
    text = normalise(candidate.statement.text)
    story = find_story(candidate, text, stories, now, policy)
    article_id = candidate.article.id
    if story is not None and article_id in story.article_ids:
        return Decision("replay", alert=story.alert)
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
    candidate: Alert, text: str, stories: Sequence[Story], now: float, policy: Policy
) -> Story | None:
    """The story ``candidate`` belongs to: same id within the repeat window, or a
    near-duplicate text within the story window."""
    best: Story | None = None
    best_score = 0.0
    for story in stories:
        if story.alert.rule != candidate.rule:
            continue
        if story.alert.id == candidate.id and story.first_seen > now - policy.repeat_window_s:
            return story
        if story.first_seen <= now - policy.story_window_s:
            continue
        score = similarity(text, story.text)
        if score >= policy.similarity and score > best_score:
            best, best_score = story, score
    return best


def similarity(a: str, b: str) -> float:
    """Token-set similarity (0-100) of two normalised texts.

    Token-set ratio forgives re-ordered and added words, which is what
    syndicated copies differ by; a length guard stops a short fragment from
    matching every long statement that contains its words.
    """
    shorter, longer = sorted((len(a), len(b)))
    if longer == 0 or shorter / longer < 0.6:
        return 0.0
    return float(fuzz.token_set_ratio(a, b))


def _merge(story: Story, candidate: Alert, now: float, policy: Policy) -> Decision:
    article_ids = story.article_ids | {candidate.article.id}
    if story.first_seen <= now - policy.story_window_s:
        return Decision("suppress", reason="repeat",
                        story=dataclasses.replace(story, article_ids=article_ids))
    known = {_source_key(s) for s in story.alert.sources}
    extra = tuple(s for s in candidate.sources if _source_key(s) not in known)
    if not extra:
        return Decision("suppress", reason="duplicate",
                        story=dataclasses.replace(story, article_ids=article_ids))
    alert = dataclasses.replace(story.alert, sources=story.alert.sources + extra)
    updated = dataclasses.replace(story, alert=alert, article_ids=article_ids)
    return Decision("update", alert=alert, story=updated)


def _source_key(source: Source) -> tuple[str, str]:
    return (source.feed_id, source.entry_url)
