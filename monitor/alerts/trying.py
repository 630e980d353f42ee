"""``monitor rules test``: which rules fire on one tagged text, and why — pure.

:func:`try_rules` evaluates every rule on every statement, as the alert sink
does (:func:`~monitor.alerts.matching.evaluate`), and explains each rule
with its top-level conditions: the ones that held and the ones that did not.
For a rule that fires it lists the statements it fires on with the words it
matched; for one that does not, the statement that came closest (most
conditions held, the first of equals) and what it lacked. The CLI shell is
:mod:`monitor.alerts.commands`; :func:`verdicts_as_json` and
:func:`verdicts_as_table` render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.alerts.conditions import (
    AllOf,
    AnyOf,
    Condition,
    EntityIn,
    FeedIn,
    LanguageIn,
    NoneOf,
    SpeakerIn,
    Subject,
    TagIn,
    TextMatch,
)
from monitor.alerts.matching import evaluate
from monitor.alerts.rules import Rule, RuleSet
from monitor.messages import ArticleRef, Match, Statement

#: Values shown of a long list in a condition's description.
SHOWN_VALUES = 4


@dataclass(frozen=True, slots=True)
class Check:
    """One top-level condition of a rule, described, and whether it held."""

    condition: str
    held: bool


@dataclass(frozen=True, slots=True)
class StatementVerdict:
    """A rule on one statement: the checks and, when it fired, the words it matched."""

    index: int
    statement: Statement
    fired: bool
    checks: tuple[Check, ...]
    matches: tuple[Match, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """A rule on the whole text."""

    rule: Rule
    fired: tuple[StatementVerdict, ...]
    #: When the rule fires nowhere: the statement that came closest (None: no statement).
    closest: StatementVerdict | None

    @property
    def fires(self) -> bool:
        return bool(self.fired)


def try_rules(
    ruleset: RuleSet, statements: Sequence[Statement], article: ArticleRef
) -> list[RuleVerdict]:
    """Every rule of ``ruleset``, in file order, judged on ``statements``."""
    fired: dict[str, list[StatementVerdict]] = {r.name: [] for r in ruleset.rules}
    best: dict[str, StatementVerdict] = {}
    for index, statement in enumerate(statements):
        hits = {hit.rule.name: hit for hit in evaluate(ruleset, statement, article)}
        for rule in ruleset.rules:
            checks = explain(rule.condition, Subject(statement, article))
            hit = hits.get(rule.name)
            verdict = StatementVerdict(
                index, statement, hit is not None, checks, hit.matches if hit else ()
            )
            if hit is not None:
                fired[rule.name].append(verdict)
            elif rule.name not in best or _held(verdict) > _held(best[rule.name]):
                best[rule.name] = verdict
    return [
        RuleVerdict(
            rule, tuple(fired[rule.name]), None if fired[rule.name] else best.get(rule.name)
        )
        for rule in ruleset.rules
    ]


def _held(verdict: StatementVerdict) -> int:
    return sum(check.held for check in verdict.checks)


def explain(condition: Condition, subject: Subject) -> tuple[Check, ...]:
    """The top-level conditions of a rule (all must hold), each described and tested.

    An ``any`` that held is described by the parts of it that held.
    """
    parts = condition.parts if isinstance(condition, AllOf) else (condition,)
    checks = []
    for part in parts:
        held = part.test(subject) is not None
        if held and isinstance(part, AnyOf):
            inner = [describe(p) for p in part.parts if p.test(subject) is not None]
            checks.append(Check(f"any of ({'; '.join(inner)})", True))
        else:
            checks.append(Check(describe(part), held))
    return tuple(checks)


def describe(condition: Condition) -> str:
    """A condition as a reader of the rules file would name it."""
    if isinstance(condition, TextMatch):
        return _listed("words", condition.matcher.labels)
    if isinstance(condition, TagIn):
        return _listed("tags", sorted(condition.tags))
    if isinstance(condition, EntityIn):
        key = "entities" if condition.labels is None else "countries"
        return _listed(key, sorted(condition.texts))
    if isinstance(condition, SpeakerIn):
        return _listed("speakers", condition.names)
    if isinstance(condition, FeedIn):
        return _listed("feeds", sorted(condition.feeds))
    if isinstance(condition, LanguageIn):
        return _listed("languages", sorted(condition.languages))
    if isinstance(condition, AllOf | AnyOf | NoneOf):
        word = {AllOf: "all", AnyOf: "any", NoneOf: "none"}[type(condition)]
        inner = "; ".join(describe(part) for part in condition.parts[:2])
        more = f"; +{len(condition.parts) - 2} more" if len(condition.parts) > 2 else ""
        return f"{word} of ({inner}{more})"
    return type(condition).__name__


def _listed(key: str, values: Sequence[str]) -> str:
    shown = ", ".join(_clip(v, 40) for v in values[:SHOWN_VALUES])
    more = f", +{len(values) - SHOWN_VALUES} more" if len(values) > SHOWN_VALUES else ""
    return f"{key}: {shown}{more}"


# -- rendering ----------------------------------------------------------------


def verdicts_as_json(
    verdicts: Sequence[RuleVerdict], language: str | None, statements: int, rules_file: str
) -> dict[str, Any]:
    """The ``--json`` document (its shape is documented in docs/webhooks.md)."""
    return {
        "rules_file": rules_file,
        "language": language,
        "statements": statements,
        "rules": [
            {
                "name": v.rule.name,
                "severity": v.rule.severity,
                "fires": v.fires,
                "statements": [_statement_json(s) for s in v.fired],
                "closest": _statement_json(v.closest) if v.closest else None,
            }
            for v in verdicts
        ],
    }


def _statement_json(verdict: StatementVerdict) -> dict[str, Any]:
    statement = verdict.statement
    return {
        "index": verdict.index,
        "text": statement.text,
        "speaker": statement.speaker,
        "tags": list(statement.tags),
        "matches": [
            {"term": m.term, "text": m.text, "start": m.start, "end": m.end}
            for m in verdict.matches
        ],
        "conditions": [{"condition": c.condition, "held": c.held} for c in verdict.checks],
    }


def verdicts_as_table(
    verdicts: Sequence[RuleVerdict], language: str | None, statements: int
) -> list[str]:
    """Human-readable lines: a summary, then one block per rule."""
    firing = sum(v.fires for v in verdicts)
    lines = [
        f"language {language or 'unknown'}, {statements} statement(s): "
        f"{firing} of {len(verdicts)} rule(s) fire"
    ]
    width = max((len(v.rule.name) for v in verdicts), default=4)
    for verdict in verdicts:
        status = f"FIRES on {len(verdict.fired)} statement(s)" if verdict.fires else "no"
        lines.append(f"{verdict.rule.name:<{width}}  {verdict.rule.severity:<8}  {status}")
        lines.extend(_details(verdict))
    return lines


def _details(verdict: RuleVerdict) -> list[str]:
    if verdict.fires:
        return [
            line
            for s in verdict.fired
            for line in (
                f"    [{s.index}] {_clip(s.statement.text)}",
                "        words: " + (_words(s.matches) or "-"),
                "        held: " + "; ".join(c.condition for c in s.checks),
            )
        ]
    if verdict.closest is None:
        return ["    (no statement to test)"]
    closest = verdict.closest
    return [
        f"    closest [{closest.index}] {_clip(closest.statement.text)}",
        "        missing: " + "; ".join(c.condition for c in closest.checks if not c.held),
    ]


def _words(matches: Sequence[Match]) -> str:
    return ", ".join(f'"{m.text}" ({_clip(m.term, 40)})' for m in matches)


def _clip(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
