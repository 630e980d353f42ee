"""Rules: loading with located errors, and pure evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.alerts.matching import evaluate
from monitor.alerts.rules import load_rules, parse_rules
from monitor.errors import ConfigError
from monitor.messages import ArticleRef, Source, Span, Statement
from tests.alerts.helpers import RULES_FILE

ARTICLE = ArticleRef("a1", "http://127.0.0.1/a", "Title", "wire",
                     sources=(Source("wire", "http://127.0.0.1/f.xml", "http://127.0.0.1/a"),))


def rules(*specs: dict[str, object]) -> object:
    return parse_rules({"version": 1, "rules": list(specs)}, "rules.yaml")


def statement(text: str, **kw: object) -> Statement:
    return Statement(text=text, start=0, end=len(text), **kw)  # type: ignore[arg-type]


def names(ruleset: object, stmt: Statement, article: ArticleRef = ARTICLE) -> list[str]:
    return [h.rule.name for h in evaluate(ruleset, stmt, article)]  # type: ignore[arg-type]


def test_shipped_rules_load() -> None:
    ruleset = load_rules(RULES_FILE)
    assert len(ruleset.rules) >= 4


def test_errors_name_file_rule_and_key(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [
        {"name": "ok", "when": {"keywords": ["vote"]}},
        {"name": "bad-regex", "when": {"regex": ["(a+)\\1"]}},
        {"name": "bad-tag", "when": {"tags": ["weather"]}},
        {"name": "bad-key", "when": {"keyword": ["x"]}},
        {"name": "ok", "when": {"keywords": ["y"]}},
    ]}))
    with pytest.raises(ConfigError) as info:
        load_rules(path)
    lines = [str(p) for p in info.value.problems]
    assert any(
        line.startswith(f"{path}: rules.1(bad-regex).when.regex.0: ") and "RE2" in line
        for line in lines
    ), lines
    assert any(line.startswith(f"{path}: rules.2(bad-tag).when.tags") for line in lines), lines
    assert any("rules.3(bad-key).when.keyword" in line for line in lines), lines
    assert any("rules.4(ok).name: duplicate rule name" in line for line in lines), lines
    assert len(lines) == 4


def test_missing_and_unparsable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_rules(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n")
    with pytest.raises(ConfigError, match="invalid YAML at line"):
        load_rules(broken)


def test_regex_that_could_backtrack_runs_in_linear_time_or_is_rejected() -> None:
    ruleset = rules({"name": "evil", "when": {"regex": ["(?:a+)+$"]}})
    # RE2 answers this classic catastrophic case at once instead of hanging.
    assert names(ruleset, statement("a" * 5000 + "!")) == []
    with pytest.raises(ConfigError, match="non-capturing"):
        rules({"name": "groups", "when": {"regex": ["(a)b"]}})
    with pytest.raises(ConfigError, match="empty string"):
        rules({"name": "empty", "when": {"regex": ["x*"]}})


@pytest.mark.parametrize(("keyword", "text", "found"), [
    ("accept defeat", "They accepted defeat.", "accepted defeat"),
    ("accept * defeat", "It must ACCEPT ITS DEFEAT now", "ACCEPT ITS DEFEAT"),
    ("rig", "a rigged vote", "rigged"),
    ("deny", "Moscow denies it", "denies"),
    ("interfer*", "interference in Venezuela's affairs", "interference"),
    ("Venezuela", "Venezuela's opposition", "Venezuela's"),
    ("élection", "une Élection contestée", "Élection"),
])
def test_keyword_matches_inflections_and_reports_offsets(
    keyword: str, text: str, found: str
) -> None:
    ruleset = rules({"name": "r", "when": {"keywords": [keyword]}})
    [hit] = evaluate(ruleset, statement(text), ARTICLE)  # type: ignore[arg-type]
    [match] = hit.matches
    assert match.text == found
    assert text[match.start:match.end] == found
    assert match.term == keyword


@pytest.mark.parametrize(("keyword", "text"), [
    ("vote", "the voter list"),
    ("rig", "a rigorous count"),
    ('"UN"', "the UNs"),
    ("accept * defeat", "accept that after many long years defeat"),
])
def test_keyword_respects_word_boundaries(keyword: str, text: str) -> None:
    ruleset = rules({"name": "r", "when": {"keywords": [keyword]}})
    assert names(ruleset, statement(text)) == []


def test_conditions_combine_all_any_none() -> None:
    ruleset = rules({
        "name": "combo",
        "when": {
            "tags": ["election"],
            "any": [{"speakers": ["peskov"]}, {"countries": ["russia"]}],
            "none": [{"feeds": ["satire"]}],
        },
    })
    peskov = statement("A vote was held.", tags=("election",), speaker="Dmitry Peskov")
    assert names(ruleset, peskov) == ["combo"]
    russia = statement("Russia spoke.", tags=("election",),
                       entities=(Span("Russia", 0, 6, "GPE"),))
    assert names(ruleset, russia) == ["combo"]
    org_named_russia = statement("Russia spoke.", tags=("election",),
                                 entities=(Span("Russia", 0, 6, "ORG"),))
    assert names(ruleset, org_named_russia) == []
    untagged = statement("A vote.", speaker="Peskov")
    assert names(ruleset, untagged) == []
    satire = ArticleRef("a2", "http://127.0.0.1/s", "S", "satire")
    assert names(ruleset, peskov, satire) == []


@pytest.mark.parametrize(("name", "speaker", "fires"), [
    ("li", "Julian Assange", False),
    ("li", "Li Qiang", True),
    ("peskov", "Kremlin spokesman Dmitry Peskov", True),
    ("Foreign Ministry", "Russia's foreign ministry", True),
    ("foreign ministry", "Ministry of Foreign Affairs", False),
    ("putin", "Putin's spokesman", True),
    ("putin", "Rasputina", False),
    ("jean-luc", "Jean-Luc Mélenchon", True),
])
def test_speakers_match_whole_name_words(name: str, speaker: str, fires: bool) -> None:
    ruleset = rules({"name": "who", "when": {"speakers": [name]}})
    assert names(ruleset, statement("A vote.", speaker=speaker)) == (["who"] if fires else [])


def test_disabled_rules_are_skipped_and_severity_labels_kept() -> None:
    ruleset = rules(
        {"name": "off", "enabled": False, "when": {"keywords": ["vote"]}},
        {"name": "on", "severity": "critical", "labels": {"team": "desk"},
         "when": {"keywords": ["vote"]}},
    )
    [hit] = evaluate(ruleset, statement("a vote"), ARTICLE)  # type: ignore[arg-type]
    assert (hit.rule.name, hit.rule.severity, hit.rule.labels) == (
        "on", "critical", {"team": "desk"})


def test_prefilter_index_gives_the_same_hits_as_plain_evaluation() -> None:
    from monitor.alerts.rules import RuleSet
    from tests.alerts.helpers import tagged_article

    indexed = load_rules(RULES_FILE)
    assert indexed.index is not None
    plain = RuleSet(indexed.rules, indexed.source, None)
    article = tagged_article()
    for st in article.statements:
        assert evaluate(indexed, st, article.article) == evaluate(plain, st, article.article)
    assert any(evaluate(indexed, st, article.article) for st in article.statements)


def test_a_languages_condition_holds_for_an_article_in_one_of_them() -> None:
    ruleset = rules({"name": "es-only", "when": {"languages": ["es"], "tags": ["election"]}})
    stmt = statement("Hubo fraude en las elecciones.", tags=("election",))
    spanish = ArticleRef("a1", "https://x.example/1", "T", "wire", language="es")
    russian = ArticleRef("a2", "https://x.example/2", "T", "wire", language="ru")
    assert names(ruleset, stmt, spanish) == ["es-only"]
    assert names(ruleset, stmt, russian) == []
    assert names(ruleset, stmt, ARTICLE) == []  # a language not known holds no languages


def test_a_language_is_a_code() -> None:
    with pytest.raises(ConfigError, match="ISO 639-1"):
        rules({"name": "bad", "when": {"languages": ["Spanish"]}})


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("La oposición denunció fraude y dijo que no reconocerá el resultado.", "es"),
        ("Оппозиция заявила о фальсификациях и не признала итоги голосования.", "ru"),
    ],
)
def test_shipped_rules_read_spanish_and_russian_disputes(text: str, language: str) -> None:
    ruleset = load_rules(RULES_FILE)
    stmt = statement(text, tags=("election",))
    article = ArticleRef("a1", "https://x.example/1", "T", "wire", language=language)
    assert "election-result-disputed" in names(ruleset, stmt, article)
