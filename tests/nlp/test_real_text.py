"""Floors on real text nobody on the team wrote: ``../shared/nlp/realdev.jsonl``
(news and official statements under open licences, labelled by
``../shared/nlp/LABELING.md``), scored by the held-out scorer
``../shared/nlp/score.py`` itself, through ``monitor tag --jsonl``.

The floors are the figures of ``docs/nlp-quality.md`` less a small margin,
so a later change cannot quietly lose quality on real text.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.nlp.language import LanguageIdentifier
from monitor.nlp.settings import NlpSettings
from tests.nlp.conftest import REPO

NLP = REPO.parent / "shared" / "nlp"
MONITOR = Path(sys.executable).parent / "monitor"

pytestmark = [
    pytest.mark.ci_only,
    pytest.mark.skipif(
        not (NLP / "score.py").is_file(),
        reason=f"{NLP} is absent (only CI and developer machines have ../shared)",
    ),
]

#: (corpus row, figure) → floor: the figures of 5 Dec 2026, fourth session
#: (docs/nlp-quality.md), less about 0.02.
FLOORS = {
    ("all", "election"): 0.88,
    ("all", "interference"): 0.88,
    ("all", "speaker"): 0.88,
    ("kind=news", "election"): 0.89,
    ("kind=news", "interference"): 0.90,
    ("kind=news", "speaker"): 0.85,
    ("kind=official", "election"): 0.87,
    ("kind=official", "interference"): 0.86,
    ("kind=official", "speaker"): 0.91,
}
#: At most this share of the units without a speaker may get one.
MOST_ATTRIBUTED_WHERE_NONE = 0.05

_ROW = re.compile(
    r"^(\S+)\s+election P=[\d.]+ R=[\d.]+ F1=([\d.]+) \| interference P=[\d.]+ R=[\d.]+ "
    r"F1=([\d.]+) \| speaker acc=([\d.]+) \(\d+/\d+\), attributed where none: (\d+)/(\d+)",
    re.MULTILINE,
)


#: The Spanish and Russian sets (small: a few units move a figure by 0.02).
LANGUAGE_FLOORS = {
    ("realdev-es.jsonl", "election"): 0.88,
    ("realdev-es.jsonl", "interference"): 0.90,
    ("realdev-es.jsonl", "speaker"): 0.85,
    ("realdev-ru.jsonl", "election"): 0.85,
    ("realdev-ru.jsonl", "interference"): 0.83,
    ("realdev-ru.jsonl", "speaker"): 0.90,
}


def _score(corpus: str) -> dict[str, tuple[float, float, float, int, int]]:
    run = subprocess.run(
        [
            sys.executable,
            str(NLP / "score.py"),
            str(NLP / corpus),
            "--cmd",
            f"{MONITOR} tag --jsonl",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    found = {
        name: (float(e), float(i), float(s), int(wrong), int(none))
        for name, e, i, s, wrong, none in _ROW.findall(run.stdout)
    }
    assert "all" in found, run.stdout[-2000:]
    return found


@pytest.fixture(scope="module")
def rows() -> dict[str, tuple[float, float, float, int, int]]:
    return _score("realdev.jsonl")


@pytest.mark.parametrize(("corpus", "figure"), sorted(LANGUAGE_FLOORS))
def test_spanish_and_russian_quality_stays_above_its_floor(corpus: str, figure: str) -> None:
    election, interference, speaker, _, _ = _score(corpus)["all"]
    got = {"election": election, "interference": interference, "speaker": speaker}[figure]
    assert got >= LANGUAGE_FLOORS[(corpus, figure)], f"{corpus} {figure}: {got:.3f}"


def test_the_language_of_every_real_excerpt_is_identified() -> None:
    identifier = LanguageIdentifier(NlpSettings().language_candidates)
    docs = [
        json.loads(line)
        for name in ("realdev.jsonl", "realdev-es.jsonl", "realdev-ru.jsonl")
        for line in (NLP / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    right = sum(identifier.identify(d["text"]).code == d["language"] for d in docs)
    assert right / len(docs) >= 0.98, f"{right} of {len(docs)}"


@pytest.mark.parametrize(("row", "figure"), sorted(FLOORS))
def test_real_text_quality_stays_above_its_floor(
    rows: dict[str, tuple[float, float, float, int, int]], row: str, figure: str
) -> None:
    election, interference, speaker, _, _ = rows[row]
    got = {"election": election, "interference": interference, "speaker": speaker}[figure]
    assert got >= FLOORS[(row, figure)], f"{row} {figure}: {got:.3f} < {FLOORS[(row, figure)]}"


def test_few_units_without_a_speaker_get_one(
    rows: dict[str, tuple[float, float, float, int, int]],
) -> None:
    *_, wrong, none = rows["all"]
    assert wrong / none < MOST_ATTRIBUTED_WHERE_NONE, f"{wrong} of {none}"
