"""A one-pass prefilter that lets thousands of rules be evaluated per statement.

Every keyword/regex leaf of every rule goes into one RE2 ``Set``, which
answers "which leaves match this text?" in a single linear scan. A rule
whose condition cannot hold unless one of its leaves matches (a *text-gated*
rule: e.g. ``keywords`` at the top, or an ``any`` whose branches are all
text) is then only evaluated when one of those leaves matched; other rules
are always evaluated. Leaves known not to match are answered from the scan
without running their own regex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import re2

from monitor.alerts.conditions import AllOf, AnyOf, Condition, TextMatch


@dataclass(frozen=True)
class RuleIndex:
    """Maps the Set's leaf numbers to matchers and rules."""

    screen: re2.Set
    #: Set index → id() of the TermMatcher it stands for.
    leaf_matchers: tuple[int, ...]
    #: Set index → positions of the rules gated by that leaf.
    leaf_rules: tuple[tuple[int, ...], ...]
    #: Positions of rules that are not text-gated.
    always: tuple[int, ...]
    rule_count: int = field(default=0)

    def screen_text(self, text: str) -> tuple[frozenset[int], list[int]]:
        """(ids of the matchers that match, sorted positions of rules worth evaluating)."""
        leaves = self.screen.Match(text) or []
        matched = frozenset(self.leaf_matchers[i] for i in leaves)
        rules = set(self.always)
        for leaf in leaves:
            rules.update(self.leaf_rules[leaf])
        return matched, sorted(rules)


def gating_leaves(condition: Condition) -> list[TextMatch] | None:
    """Leaves one of which must match for ``condition`` to hold; None if there is no such set."""
    if isinstance(condition, TextMatch):
        return [condition]
    if isinstance(condition, AnyOf):
        parts = [gating_leaves(part) for part in condition.parts]
        if any(p is None for p in parts):
            return None
        return [leaf for p in parts if p is not None for leaf in p]
    if isinstance(condition, AllOf):
        options = [g for g in (gating_leaves(p) for p in condition.parts) if g is not None]
        return min(options, key=len) if options else None
    return None


def text_leaves(condition: Condition) -> list[TextMatch]:
    """Every TextMatch in the condition tree."""
    if isinstance(condition, TextMatch):
        return [condition]
    parts = getattr(condition, "parts", ())
    return [leaf for part in parts for leaf in text_leaves(part)]


def build_index(conditions: list[Condition]) -> RuleIndex | None:
    """An index over rules' conditions (in rule order); None if RE2 cannot build the Set."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 256 << 20
    screen = re2.Set.SearchSet(options)
    positions: dict[int, int] = {}
    matcher_ids: list[int] = []
    for condition in conditions:
        for leaf in text_leaves(condition):
            key = id(leaf.matcher)
            if key not in positions:
                positions[key] = screen.Add(leaf.matcher.pattern)
                matcher_ids.append(key)
    try:
        screen.Compile()  # returns nothing; raises when RE2 cannot build the Set
    except re2.error:
        return None
    leaf_rules: list[list[int]] = [[] for _ in matcher_ids]
    always: list[int] = []
    for position, condition in enumerate(conditions):
        gates = gating_leaves(condition)
        if gates is None:
            always.append(position)
            continue
        for leaf in gates:
            leaf_rules[positions[id(leaf.matcher)]].append(position)
    return RuleIndex(screen, tuple(matcher_ids), tuple(tuple(r) for r in leaf_rules),
                     tuple(always), len(conditions))
