"""Acceptance: the shipped rules on the real seed article in ../shared, as tagged by NLP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.alerts.matching import evaluate
from monitor.alerts.rules import load_rules
from monitor.messages import ArticleRef
from monitor.nlp.settings import NlpSettings
from monitor.nlp.tagger import Tagger
from tests.alerts.helpers import RULES_FILE

REPO = Path(__file__).resolve().parents[2]
SEED = REPO.parent / "shared" / "seed"

pytestmark = [
    pytest.mark.ci_only,
    pytest.mark.skipif(
        not (SEED / "expected.json").exists(),
        reason=f"{SEED} is absent (only CI and developer machines have ../shared)",
    ),
]


def test_seed_raises_alerts_on_the_defeat_and_interference_statements_only() -> None:
    expected = json.loads((SEED / "expected.json").read_text(encoding="utf-8"))
    text = (SEED / expected["article"]).read_text(encoding="utf-8")
    tagged = Tagger.from_settings(NlpSettings(), REPO / "config").tag(text)
    rules = load_rules(RULES_FILE)
    article = ArticleRef("seed", "http://127.0.0.1/seed", "seed", "seed-feed")
    fired = {
        s.text: {h.rule.name for h in evaluate(rules, s, article)} for s in tagged.statements
    }

    def rules_on(anchor: str) -> set[str]:
        found = [names for statement, names in fired.items() if anchor in statement]
        assert found, f"no statement contains {anchor!r}"
        return found[0]

    assert "election-result-disputed" in rules_on("does not want to accept its defeat")
    assert "election-result-disputed" in rules_on("must accept that it lost the presidential")
    assert "foreign-interference-warning" in rules_on("against interfering in Venezuela")
    assert "foreign-interference-warning" in rules_on("free from outside influence")
    for anchor in expected["boilerplate_anchors"]:
        assert not any(anchor in statement and names for statement, names in fired.items())
