"""Rules built to backtrack catastrophically, and malformed configuration.

Regular expressions in rules run on RE2 (linear time): a pattern that makes a
backtracking engine explode runs in linear time here, and what RE2 cannot do
(back-references, look-around) is refused at load with the rule and key named.
Malformed configuration is answered by ``monitor check-config`` / ``monitor
run`` with ``file: key: message`` lines and exit code 2 — never a traceback.
"""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import pytest
import yaml

from monitor.alerts.matching import evaluate
from monitor.alerts.rules import parse_rules
from monitor.errors import ConfigError
from monitor.messages import ArticleRef, Statement
from tests.support import CONFIG_DIR, MONITOR, REPO_ROOT, run_monitor, write_config

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]

#: Classic catastrophic-backtracking shapes (written with non-capturing groups, as rules
#: require; capturing ones are refused at load anyway).
EXPLOSIVE = ["(?:a+)+$", "(?:a|aa)+$", "(?:a|a?)+b", "(?:.*a){20}", "^(?:\\w+\\s?)+$",
             "(?:x+x+)+y"]
UNSUPPORTED = ["(a)\\1", "(?=a)a", "(?<!b)a", "(?P<x>a)(?P=x)"]


def rules_with(patterns: list[str]) -> dict[str, object]:
    return {"version": 1, "rules": [
        {"name": f"r{i}", "severity": "low", "when": {"regex": [pattern]}}
        for i, pattern in enumerate(patterns)]}


def test_backtracking_bombs_run_in_linear_time_on_re2() -> None:
    ruleset = parse_rules(rules_with(EXPLOSIVE), "rules.yaml")
    text = "a" * 50_000 + "!" + " word" * 5_000
    statement = Statement(text=text, start=0, end=len(text))
    article = ArticleRef(id="x", url="https://news.example/x", title="t", feed_id="f")
    # A backtracking engine needs longer than the age of the universe for these;
    # the test's timeout (60 s) is the bound, not a timing assertion.
    hits = evaluate(ruleset, statement, article)
    assert all(hit.rule.name.startswith("r") for hit in hits)


@pytest.mark.parametrize("pattern", UNSUPPORTED)
def test_patterns_re2_cannot_run_are_refused_naming_rule_and_key(pattern: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules(rules_with([pattern]), "rules.yaml")
    (problem,) = caught.value.problems
    assert problem.source == "rules.yaml"
    assert "r0" in problem.key and "regex" in problem.key, problem


TWO_GB = 2 * 1024**3


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (TWO_GB, TWO_GB))


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    """``monitor check-config`` within 2 GB of address space and 30 s."""
    try:
        return subprocess.run([*MONITOR, "--config", str(config), "check-config"],
                              capture_output=True, text=True, cwd=REPO_ROOT, timeout=30,
                              preexec_fn=_cap_memory, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("monitor check-config did not finish within 30 s", pytrace=False)


MALFORMED = {
    "tab-indented YAML": "bus:\n\tkind: kafka\n",
    "not a mapping": "- just\n- a list\n",
    "unknown key": "bogus_section: {a: 1}\n",
    "wrong type": "ops:\n  http_port: eighty\n",
    "out of range": "ops:\n  http_port: 70000\n",
    "bad bus kind": "bus:\n  kind: carrier-pigeon\n",
    "bad broker address": "bus:\n  kafka:\n    bootstrap_servers: [nonsense]\n",
    "unset env reference": "alerts:\n  receivers:\n    - {name: h, url: '${NO_SUCH_VAR_X}'}\n",
    "binary junk": "\x00\x01\x02\xff",
    "deep nesting": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "billion laughs (YAML aliases)": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
              for p, c in zip("abcdefgh", "bcdefghi", strict=True)),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_config_gets_one_line_errors_not_a_traceback(tmp_path: Path, name: str
                                                               ) -> None:
    config = write_config(tmp_path)
    config.write_bytes(MALFORMED[name].encode("utf-8", "surrogateescape")
                       if name != "binary junk" else b"\x00\x01\x02\xff")
    done = check_config(config)
    assert done.returncode == 1, (done.stdout, done.stderr)  # problems found
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(len(line) < 400 for line in lines), lines
    assert any(str(config) in line for line in lines), lines


def test_malformed_rules_file_refuses_start(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rules_with(["(a)\\1"])))
    text = config.read_text().replace(str(CONFIG_DIR / "rules.yaml"), str(rules))
    config.write_text(text)
    done = run_monitor(config, "run", "--once", timeout=120)
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr + done.stdout
    assert "r0" in done.stderr and "regex" in done.stderr
