"""Acceptance: the seed article in ../shared/seed, scored against expected.json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.nlp.evaluate import speakers_match
from monitor.nlp.tagger import Tagger
from tests.nlp.conftest import REPO

SEED = REPO.parent / "shared" / "seed"

pytestmark = [
    pytest.mark.ci_only,
    pytest.mark.skipif(
        not (SEED / "expected.json").exists(),
        reason=f"{SEED} is absent (only CI and developer machines have ../shared)",
    ),
]


@pytest.fixture(scope="module")
def seed(tagger: Tagger) -> tuple[str, dict[str, object], dict[str, object]]:
    expected = json.loads((SEED / "expected.json").read_text(encoding="utf-8"))
    text = (SEED / expected["article"]).read_text(encoding="utf-8")
    return text, expected, tagger.tag(text).to_json()


def _statement(output: dict[str, Any], anchor: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [s for s in output["statements"] if anchor in s["text"]]
    assert matches, f"no statement contains {anchor!r}"
    return matches[0]


def test_every_statement_expectation_holds(seed: tuple) -> None:  # type: ignore[type-arg]
    _, expected, output = seed
    for want in expected["statements"]:
        got = _statement(output, want["anchor"])
        assert set(want["require"]) <= set(got["tags"]), want["anchor"]
        assert not set(want["forbid"]) & set(got["tags"]), want["anchor"]
        if want["speaker"] is not None:
            assert speakers_match(want["speaker"], got["speaker"]), (want, got["speaker"])


def test_nothing_comes_from_the_boilerplate(seed: tuple) -> None:  # type: ignore[type-arg]
    text, expected, output = seed
    for anchor in expected["boilerplate_anchors"]:
        assert not any(anchor in s["text"] for s in output["statements"]), anchor
        position = text.index(anchor)
        assert any(b["start"] <= position < b["end"] for b in output["boilerplate"]), anchor
    first_boilerplate = min(b["start"] for b in output["boilerplate"])
    for statement in output["statements"]:
        for evidence in statement["evidence"]:
            assert evidence["end"] <= first_boilerplate


def test_expected_entities_are_found(seed: tuple) -> None:  # type: ignore[type-arg]
    _, expected, output = seed
    found = {(e["text"], e["label"]) for e in output["entities"]}
    for entity in expected["entities"]:
        assert (entity["text"], entity["label"]) in found, entity
