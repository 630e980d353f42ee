"""Per-site boilerplate rules for extracted article text (``config/sites.yaml``).

Extractors keep plain paragraphs such as a publisher's donation appeal at the
end of every article; these rules, kept as data, remove them. A rule set
applies to a host and its subdomains; ``defaults`` apply everywhere.

* ``cut_from``: regexes; the first paragraph matching one of them, and every
  paragraph after it, is dropped (appeals and footers sit at the end).
* ``drop_paragraphs``: regexes; any paragraph matching one is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.errors import ConfigError, ConfigProblem
from monitor.text import one_line


class SiteRule(BaseModel):
    """Boilerplate rules for a group of hosts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hosts: tuple[str, ...] = Field(min_length=1)
    cut_from: tuple[str, ...] = ()
    drop_paragraphs: tuple[str, ...] = ()

    @field_validator("cut_from", "drop_paragraphs")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regex {pattern!r}: {exc}") from exc
        return patterns


class DefaultRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cut_from: tuple[str, ...] = ()
    drop_paragraphs: tuple[str, ...] = ()


class SiteRules(BaseModel):
    """The whole ``sites.yaml`` document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: DefaultRule = DefaultRule()
    sites: tuple[SiteRule, ...] = ()

    def clean(self, url: str, text: str) -> str:
        """``text`` (paragraphs separated by newlines) without boilerplate for ``url``."""
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        cut, drop = list(self.defaults.cut_from), list(self.defaults.drop_paragraphs)
        for rule in self.sites:
            if any(host == h or host.endswith("." + h) for h in rule.hosts):
                cut += rule.cut_from
                drop += rule.drop_paragraphs
        return "\n".join(_kept(text.split("\n"), _compile(cut), _compile(drop)))


def _compile(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


def _kept(
    paragraphs: list[str], cut: list[re.Pattern[str]], drop: list[re.Pattern[str]]
) -> list[str]:
    kept: list[str] = []
    for paragraph in paragraphs:
        line = paragraph.strip()
        if any(p.search(line) for p in cut):
            break
        if line and not any(p.search(line) for p in drop):
            kept.append(line)
    return kept


def load_site_rules(path: Path) -> SiteRules:
    """Read ``sites.yaml``; a missing file means no rules.

    Raises :class:`ConfigError` naming the file and key for invalid content.
    """
    if not path.exists():
        return SiteRules()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([ConfigProblem(str(path), "", one_line(exc))]) from exc
    try:
        return SiteRules.model_validate(document)
    except ValidationError as exc:
        problems = [
            ConfigProblem(str(path), ".".join(str(p) for p in err["loc"]), err["msg"])
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise ConfigError(problems) from exc
