"""The figures in docs/nlp-quality.md are a floor: scoring the labelled sets
must not fall more than ``MARGIN`` below any of them."""

from __future__ import annotations

import re

import pytest

from monitor.messages import TAGS
from monitor.nlp.evaluate import Scores, load_items, predict, score
from monitor.nlp.tagger import Tagger
from tests.nlp.conftest import FIXTURES, REPO

MARGIN = 0.02
SETS = {
    "dev": "devset.jsonl",
    "held-out": "heldout.jsonl",
    "challenge": "challenge.jsonl",
    "challenge2": "challenge2.jsonl",
    "challenge3": "challenge3.jsonl",
    "challenge4": "challenge4.jsonl",
    "challenge5": "challenge5.jsonl",
    "challenge6": "challenge6.jsonl",
}
DOC = REPO / "docs" / "nlp-quality.md"
_NUMBER = r"\**([01]\.\d+)\**"
_SET = "(" + "|".join(sorted(SETS, key=len, reverse=True)) + ")"
_TAG_ROW = re.compile(
    rf"^\| {_SET} \((\d+)\) \| (\w+) \(n=\d+\) \| {_NUMBER} \| {_NUMBER} \| {_NUMBER} \|",
    re.MULTILINE,
)
_SPEAKER_ROW = re.compile(rf"^\| {_SET} \| {_NUMBER} \|", re.MULTILINE)


def _documented() -> tuple[
    dict[tuple[str, str], tuple[float, ...]], dict[str, float], dict[str, int]
]:
    """Per (set, tag): (P, R, F1); per set: speaker accuracy and sentence count."""
    text = DOC.read_text(encoding="utf-8")
    tags: dict[tuple[str, str], tuple[float, ...]] = {}
    sizes: dict[str, int] = {}
    for name, size, tag, *figures in _TAG_ROW.findall(text):
        tags[(name, tag)] = tuple(float(f) for f in figures)
        sizes[name] = int(size)
    speakers = {name: float(value) for name, value in _SPEAKER_ROW.findall(text)}
    return tags, speakers, sizes


DOCUMENTED_TAGS, DOCUMENTED_SPEAKERS, DOCUMENTED_SIZES = _documented()


@pytest.fixture(scope="module")
def scores(tagger: Tagger) -> dict[str, Scores]:
    result = {}
    for name, file in SETS.items():
        items = load_items(FIXTURES / file)
        result[name] = score(items, predict(tagger, items))
    return result


def test_the_document_gives_every_figure() -> None:
    assert set(DOCUMENTED_TAGS) == {(name, tag) for name in SETS for tag in TAGS}
    assert set(DOCUMENTED_SPEAKERS) == set(SETS)


@pytest.mark.parametrize("name", SETS)
def test_the_documented_set_sizes_are_current(scores: dict[str, Scores], name: str) -> None:
    assert scores[name].items == DOCUMENTED_SIZES[name], "update docs/nlp-quality.md"


@pytest.mark.parametrize(("name", "tag"), [(name, tag) for name in SETS for tag in TAGS])
def test_tag_quality_stays_above_the_documented_floor(
    scores: dict[str, Scores], name: str, tag: str
) -> None:
    measured = scores[name].prf(tag)
    for label, got, floor in zip(
        ("P", "R", "F1"), measured, DOCUMENTED_TAGS[(name, tag)], strict=True
    ):
        assert got >= floor - MARGIN, f"{name} {tag} {label}: {got:.3f} < {floor:.3f} - {MARGIN}"


@pytest.mark.parametrize("name", SETS)
def test_speaker_accuracy_stays_above_the_documented_floor(
    scores: dict[str, Scores], name: str
) -> None:
    measured = scores[name].speaker_right / scores[name].items
    floor = DOCUMENTED_SPEAKERS[name]
    assert measured >= floor - MARGIN, f"{name} speakers: {measured:.3f} < {floor:.3f} - {MARGIN}"
