"""``monitor rules test``: which rules fire on a text, on which words, and what a
rule that does not fire lacked — as a table, as JSON, from a file or stdin."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from monitor.alerts.rules import load_rules, parse_rules
from monitor.alerts.trying import try_rules
from monitor.cli import cli
from monitor.messages import ArticleRef, Statement
from tests.support import CONFIG_DIR, run_monitor, write_config

ARTICLE = (
    "Opposition rejects election result\n"
    "Opposition leader Maria Lopez said on Monday that the election was rigged and she "
    "would not accept defeat.\n"
)
QUIET = "Heatwave\nTemperatures will reach 35 degrees on Tuesday, forecasters said.\n"


def _invoke(config: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "rules", "test", *args], input=stdin)


def test_the_table_says_which_rules_fire_on_which_words_and_what_the_others_lack(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    text = tmp_path / "article.txt"
    text.write_text(ARTICLE, encoding="utf-8")
    result = _invoke(config, str(text))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "language en, 2 statement(s): 1 of 5 rule(s) fire"
    disputed = next(line for line in lines if line.startswith("election-result-disputed"))
    assert "FIRES on 2 statement(s)" in disputed
    assert any('"rigged" (rigged)' in line and '"accept defeat" (accept * defeat)' in line
               for line in lines)
    assert any(line.strip().startswith("held: tags: election") for line in lines)
    warning = next(line for line in lines if line.startswith("foreign-interference-warning"))
    assert warning.split()[-1] == "no"
    after = lines[lines.index(warning) + 1:]
    assert after[0].strip().startswith("closest [")
    assert after[1].strip().startswith("missing: any of (tags: foreign_interference")


def test_json_from_stdin_has_one_entry_per_rule_in_file_order(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = _invoke(config, "--json", stdin=ARTICLE)  # PATH defaults to "-"
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["language"] == "en" and document["statements"] == 2
    assert document["rules_file"] == str(CONFIG_DIR / "rules.yaml")
    names = [rule.name for rule in load_rules(CONFIG_DIR / "rules.yaml").rules]
    assert [r["name"] for r in document["rules"]] == names
    disputed = document["rules"][0]
    assert disputed["fires"] is True and disputed["closest"] is None
    second = disputed["statements"][1]
    assert set(second) == {"index", "text", "speaker", "tags", "matches", "conditions"}
    for match in second["matches"]:  # offsets index the statement's text
        assert second["text"][match["start"]:match["end"]] == match["text"]
    assert {m["term"] for m in second["matches"]} == {"rigged", "accept * defeat"}
    assert all(c["held"] for c in second["conditions"])
    quiet = json.loads(_invoke(config, "--json", "-", stdin=QUIET).stdout)
    assert not any(rule["fires"] for rule in quiet["rules"])
    closest = quiet["rules"][0]["closest"]
    assert closest["matches"] == [] and not all(c["held"] for c in closest["conditions"])


def test_errors_are_one_line_exit_1_at_run_time_and_2_for_usage(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    missing = tmp_path / "nowhere.txt"
    result = run_monitor(config, "rules", "test", str(missing))
    assert result.returncode == 1
    assert result.stderr == f"error: {missing}: No such file or directory\n"
    bad_rules = tmp_path / "bad-rules.yaml"
    bad_rules.write_text(yaml.safe_dump({"rules": [{"name": "x", "when": {"tags": ["nope"]}}]}))
    result = run_monitor(config, "rules", "test", "--rules", str(bad_rules), "-")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {bad_rules}: rules.0(x).when.tags: ") and "nope" in line
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    invoked = _invoke(config, str(binary))
    assert invoked.exit_code == 1 and "not UTF-8 text" in invoked.stderr
    assert _invoke(config, "--no-such-option").exit_code == 2


def test_a_rule_on_speakers_and_feeds_is_explained_condition_by_condition() -> None:
    rules = parse_rules({"rules": [{"name": "peskov-on-wire", "when": {
        "speakers": ["peskov"], "feeds": ["wire"], "keywords": ["rigged"]}}]}, "inline")
    statement = Statement(text="The vote was rigged, he said.", start=0, end=29,
                          speaker="Dmitry Peskov")
    elsewhere = ArticleRef(id="x", url="", title="", feed_id="other", language="en")
    [verdict] = try_rules(rules, [statement], elsewhere)
    assert not verdict.fires and verdict.closest is not None
    checks = {c.condition: c.held for c in verdict.closest.checks}
    assert checks == {"speakers: peskov": True, "feeds: wire": False, "words: rigged": True}
    [verdict] = try_rules(rules, [statement], dataclasses.replace(elsewhere, feed_id="wire"))
    assert verdict.fires and [m.text for m in verdict.fired[0].matches] == ["rigged"]
