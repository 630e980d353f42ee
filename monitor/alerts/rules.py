"""Alert rules: the YAML schema, validation at load, and compilation.

``config/rules.yaml`` holds ``version: 1`` and a list of ``rules``. A rule
has a ``name``, a ``severity``, optional ``labels``, an optional
``rate_limit`` and a ``when`` condition. A condition is a mapping whose keys
must all hold:

``keywords``   any of these words/phrases occurs (see :mod:`monitor.alerts.terms`)
``regex``      any of these RE2 regular expressions matches (case-insensitive)
``tags``       the statement carries at least one of these tags
``entities``   an entity in the statement has one of these texts
``countries``  a place entity (GPE/LOC/NORP) in the statement has one of these texts
``speakers``   the speaker's name contains one of these as whole words (case-insensitive)
``feeds``      the article came through one of these feed ids
``languages``  the article is in one of these languages (ISO 639-1: en, es, ru …)
``all`` / ``any`` / ``none``   lists of nested conditions

Every problem is reported at once as a :class:`ConfigProblem` naming the
file, ``rules.<index>(<name>).<key path>`` and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.alerts.conditions import (
    AllOf,
    AnyOf,
    Condition,
    EntityIn,
    FeedIn,
    LanguageIn,
    NoneOf,
    SpeakerIn,
    TagIn,
    TextMatch,
)
from monitor.alerts.index import RuleIndex, build_index
from monitor.alerts.terms import PatternError, TermMatcher, keyword_pattern
from monitor.errors import ConfigError, ConfigProblem
from monitor.messages import TAGS

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
PLACE_LABELS = frozenset({"GPE", "LOC", "NORP"})


class RateLimitSpec(BaseModel):
    """At most ``count`` alerts of the rule per ``per_s`` seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int = Field(ge=1)
    per_s: float = Field(gt=0)


class ConditionSpec(BaseModel):
    """One condition node as written in YAML; all given keys must hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    keywords: tuple[str, ...] | None = None
    regex: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    entities: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    speakers: tuple[str, ...] | None = None
    feeds: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    all: tuple[ConditionSpec, ...] | None = None
    any: tuple[ConditionSpec, ...] | None = None
    none: tuple[ConditionSpec, ...] | None = None

    @field_validator("keywords", "regex", "entities", "countries", "speakers", "feeds",
                     "tags", "languages", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        odd = [v for v in value or () if not (v.isalpha() and 2 <= len(v) <= 3)]
        if odd:
            raise ValueError(f"languages are ISO 639-1 codes (en, es, ru), not {odd[0]!r}")
        return value

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = [t for t in value or () if t not in TAGS]
        if unknown:
            raise ValueError(f"unknown tag {unknown[0]!r}; known: {', '.join(TAGS)}")
        return value


class RuleSpec(BaseModel):
    """One rule as written in YAML."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    severity: Severity = "medium"
    labels: dict[str, str] = Field(default_factory=dict)
    rate_limit: RateLimitSpec | None = None
    enabled: bool = True
    when: ConditionSpec


class RulesFile(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    rules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled, ready-to-evaluate rule."""

    name: str
    severity: str
    labels: dict[str, str]
    condition: Condition
    description: str = ""
    rate_limit: RateLimitSpec | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The enabled rules of one rules file, in file order."""

    rules: tuple[Rule, ...]
    source: str = ""
    #: Prefilter over the rules' text conditions (see :mod:`monitor.alerts.index`).
    index: RuleIndex | None = None

    @classmethod
    def of(cls, rules: tuple[Rule, ...], source: str = "", indexed: bool = True) -> RuleSet:
        index = build_index([r.condition for r in rules]) if indexed and rules else None
        return cls(rules, source, index)

    def by_name(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


def load_rules(path: Path) -> RuleSet:
    """Read, validate and compile a rules file.

    Raises :class:`ConfigError` listing every problem, each naming the file,
    the rule and the key.
    """
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError([ConfigProblem(source, "", "file not found")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(source, "", f"cannot read: {exc}")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError([ConfigProblem(source, "", f"invalid YAML{where}")]) from exc
    return parse_rules(raw, source)


def parse_rules(raw: object, source: str) -> RuleSet:
    """Validate and compile already-parsed YAML (see :func:`load_rules`)."""
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(source, "", "must be a mapping with a 'rules' list")])
    problems: list[ConfigProblem] = []
    try:
        document = RulesFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, source, "")) from exc
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(document.rules):
        where = f"rules.{index}"
        if isinstance(item.get("name"), str):
            where += f"({item['name']})"
        try:
            spec = RuleSpec.model_validate(item)
        except ValidationError as exc:
            problems.extend(_problems(exc, source, where))
            continue
        if spec.name in seen:
            problems.append(ConfigProblem(source, f"{where}.name", "duplicate rule name"))
            continue
        seen.add(spec.name)
        condition = _compile(spec.when, f"{where}.when", source, problems)
        if condition is not None and spec.enabled:
            rules.append(Rule(spec.name, spec.severity, dict(spec.labels), condition,
                              spec.description, spec.rate_limit))
    if problems:
        raise ConfigError(problems)
    return RuleSet.of(tuple(rules), source)


def _compile(
    spec: ConditionSpec, where: str, source: str, problems: list[ConfigProblem]
) -> Condition | None:
    """Turn a condition spec into an evaluable condition; record problems."""
    parts: list[Condition] = []
    given = spec.model_dump(exclude_none=True)
    if not given:
        problems.append(ConfigProblem(source, where, "empty condition"))
        return None
    for key in given:
        part = _compile_key(spec, key, f"{where}.{key}", source, problems)
        if part is not None:
            parts.append(part)
    if len(parts) != len(given):
        return None
    # Cheap set lookups first, so most statements fail before any text search.
    parts.sort(key=lambda part: isinstance(part, TextMatch | AnyOf | AllOf | NoneOf))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _compile_key(
    spec: ConditionSpec, key: str, where: str, source: str, problems: list[ConfigProblem]
) -> Condition | None:
    value = getattr(spec, key)
    if key in ("all", "any", "none"):
        if not value:
            problems.append(ConfigProblem(source, where, "needs at least one condition"))
            return None
        children = [_compile(c, f"{where}.{i}", source, problems) for i, c in enumerate(value)]
        if any(c is None for c in children):
            return None
        kids = tuple(c for c in children if c is not None)
        if key == "all":
            return AllOf(kids)
        return AnyOf(kids) if key == "any" else NoneOf(kids)
    if not value or any(not str(v).strip() for v in value):
        problems.append(ConfigProblem(source, where, "needs non-empty values"))
        return None
    if key in ("keywords", "regex"):
        return _compile_text(key, value, where, source, problems)
    folded = frozenset(v.strip().casefold() for v in value)
    if key == "tags":
        return TagIn(folded)
    if key == "entities":
        return EntityIn(folded, None)
    if key == "countries":
        return EntityIn(folded, PLACE_LABELS)
    if key == "speakers":
        return SpeakerIn(tuple(sorted(folded)))
    if key == "languages":
        return LanguageIn(folded)
    return FeedIn(frozenset(v.strip() for v in value))


def _compile_text(
    key: str, values: tuple[str, ...], where: str, source: str, problems: list[ConfigProblem]
) -> Condition | None:
    terms: list[tuple[str, str]] = []
    for i, value in enumerate(values):
        try:
            pattern = keyword_pattern(value) if key == "keywords" else value
            TermMatcher([(value, pattern)], whole_words=key == "keywords")
        except PatternError as exc:
            problems.append(ConfigProblem(source, f"{where}.{i}", str(exc)))
            continue
        terms.append((value, pattern))
    if len(terms) != len(values):
        return None
    return TextMatch(TermMatcher(terms, whole_words=key == "keywords"))


def _problems(exc: ValidationError, source: str, prefix: str) -> list[ConfigProblem]:
    found = []
    for error in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in error["loc"])
        key = ".".join(p for p in (prefix, path) if p)
        found.append(ConfigProblem(source, key, error["msg"]))
    return found
