"""The alert sink's decisions for one article, as functions of data and ``now``.

Rule matching (:func:`candidates_of`: every rule on every statement) and the
story decisions (:func:`decide_article`: per candidate, silences, rate limits
and de-duplication by :func:`monitor.alerts.story.decide`, then the story's
grouping by :func:`monitor.alerts.grouping.regroup`, kept in a
:class:`~monitor.alerts.state.StoryState`). The alert role runs them as two
stages (:mod:`monitor.alerts.role`); ``rules backtest`` runs them in one step
(:func:`sink_article`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monitor.alerts.grouping import GroupAction, GroupDecision
from monitor.alerts.lookup import Lookup, plain_lookup
from monitor.alerts.matching import evaluate, make_alert
from monitor.alerts.rules import Rule, RuleSet
from monitor.alerts.settings import AlertSettings
from monitor.alerts.state import StoryState
from monitor.alerts.story import Decision, Policy, Silence
from monitor.messages import Alert, TaggedArticle

#: How often the story state (and silences, and shared delivery records) is pruned.
PRUNE_INTERVAL_S = 3600.0


def policy_for(settings: AlertSettings, rule: Rule) -> Policy:
    """The decision policy of ``rule``: the dedup settings, its own rate limit if set."""
    policy = default_policy(settings)
    limit = rule.rate_limit
    if limit is None:
        return policy
    return dataclasses.replace(policy, rate_limit_count=limit.count, rate_limit_per_s=limit.per_s)


def state_kept_s(settings: AlertSettings) -> float:
    """How long the sink's story state is kept (older is pruned every
    :data:`PRUNE_INTERVAL_S`): the longest window a decision looks back over."""
    dedup = settings.dedup
    return max(dedup.repeat_window_s, dedup.story_window_s, dedup.rate_limit_per_s)


#: The ``outcome`` label of ``monitor_alert_stories_total`` for each grouping action:
#: a new story, a new revision of one, or an article of a known story that brought
#: nothing new (a re-read article's notification is published again unchanged,
#: which receivers that have it skip; otherwise nothing is published).
STORY_OUTCOMES: dict[GroupAction, str] = {
    "new": "new", "revise": "revision", "replay": "unchanged", "none": "unchanged",
}


@dataclass(frozen=True, slots=True)
class ArticleOutcome:
    """What the sink decided for one article's candidate alerts."""

    #: Every candidate alert (one per rule hit) with its decision, in order.
    hits: tuple[tuple[Alert, Decision], ...]
    #: The alerts those decisions let through (emitted, updated, replayed), in order.
    published: tuple[Alert, ...]
    #: The story's grouping (``notify: story`` and a hit linked to a story), else None.
    group: GroupDecision | None


def candidates_of(rules: RuleSet, tagged: TaggedArticle, now: float) -> tuple[Alert, ...]:
    """The candidate alert of every rule hit on every statement of ``tagged``, in
    order, stamped with ``now``: what rule matching hands to the story decisions."""
    return tuple(
        make_alert(hit, statement, tagged.article, now)
        for statement in tagged.statements
        for hit in evaluate(rules, statement, tagged.article)
    )


def decide_article(
    state: StoryState,
    policy_of: Callable[[str], Policy],
    settings: AlertSettings,
    article_id: str,
    candidates: Sequence[Alert],
    silences: Sequence[Silence],
    now: float,
    lookup: Lookup = plain_lookup,
) -> ArticleOutcome:
    """The story decisions for one article's ``candidates`` at ``now``: each one's
    per-statement decision (silences, rate limits, de-duplication:
    :func:`monitor.alerts.story.decide`, with the policy ``policy_of`` gives for its
    rule), then, with ``notify: story``, the story's grouping
    (:func:`monitor.alerts.grouping.regroup`), each kept in ``state`` as it is
    taken. ``lookup`` scores candidates against stories (:mod:`monitor.alerts.lookup`)."""
    hits: list[tuple[Alert, Decision]] = []
    linked: list[str] = []
    published: list[Alert] = []
    replayed = False
    for candidate in candidates:
        decision = state.decide_and_record(candidate, now, policy_of(candidate.rule), silences,
                                           lookup)
        hits.append((candidate, decision))
        if decision.story is not None:
            linked.append(decision.story.alert.id)
        if decision.alert is None:
            continue
        linked.append(decision.alert.id)
        published.append(decision.alert)
        replayed = replayed or decision.action == "replay"
    group = None
    if settings.notify == "story" and linked:
        group = state.group_and_record(article_id, linked, published, replayed, now)
    return ArticleOutcome(tuple(hits), tuple(published), group)


def sink_article(
    state: StoryState,
    rules: RuleSet,
    settings: AlertSettings,
    tagged: TaggedArticle,
    now: float,
    silences: Sequence[Silence] = (),
) -> ArticleOutcome:
    """Rule matching and the story decisions for one tagged article in one step
    (``rules backtest``; the alert sink runs the two as separate stages)."""
    return decide_article(state, policies(settings, rules), settings, tagged.article.id,
                          candidates_of(rules, tagged, now), silences, now)


def policies(settings: AlertSettings, rules: RuleSet) -> Callable[[str], Policy]:
    """The decision policy of each rule by name; a rule no longer in ``rules``
    (removed by a reload while its candidates were on their way) gets the defaults."""
    by_name = {rule.name: policy_for(settings, rule) for rule in rules.rules}
    default = default_policy(settings)
    return lambda name: by_name.get(name, default)


def default_policy(settings: AlertSettings) -> Policy:
    dedup = settings.dedup
    return Policy(
        story_window_s=dedup.story_window_s,
        similarity=dedup.similarity,
        max_candidates=dedup.max_candidates,
        repeat_window_s=dedup.repeat_window_s,
        rate_limit_count=dedup.rate_limit_count,
        rate_limit_per_s=dedup.rate_limit_per_s,
    )
