"""Shared fixtures: the project's own lexicons and one tagger per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.nlp.lexicon import Lexicon, load_lexicon
from monitor.nlp.multilingual import MultilingualTagger
from monitor.nlp.result import TagResult
from monitor.nlp.settings import NlpSettings
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.tagger import Tagger

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / "config"
FIXTURES = REPO / "tests" / "fixtures" / "nlp"


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return load_lexicon(CONFIG_DIR / "nlp")


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    return Tagger.from_settings(NlpSettings(), CONFIG_DIR)


@pytest.fixture(scope="session")
def multilingual() -> MultilingualTagger:
    return MultilingualTagger.from_settings(NlpSettings(), CONFIG_DIR)


@pytest.fixture(scope="session")
def speech(lexicon: Lexicon) -> SpeechRules:
    return SpeechRules.from_lexicon(lexicon.speech, lexicon.gazetteer)


def read_fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def assert_offsets_index(text: str, result: TagResult) -> None:
    """Statements (in order, not overlapping) and their evidence index ``text``."""
    previous_end = 0
    for statement in result.statements:
        assert text[statement.start : statement.end] == statement.text
        assert statement.start >= previous_end
        previous_end = statement.end
        for evidence in statement.evidence:
            assert statement.start <= evidence.start < evidence.end <= statement.end
            assert text[evidence.start : evidence.end] == evidence.text
