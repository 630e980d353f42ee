from __future__ import annotations

import pytest

from monitor.nlp.lexicon import Lexicon
from monitor.nlp.rules import ELECTION_WEAK, INTERFERENCE
from monitor.nlp.terms import TermIndex, Terms


@pytest.fixture(scope="module")
def terms(lexicon: Lexicon) -> Terms:
    return Terms.from_lexicon(lexicon)


@pytest.fixture(scope="module")
def index(terms: Terms) -> TermIndex:
    return TermIndex(terms)


def test_tables_map_phrases_to_labels_countries_and_kinds(terms: Terms) -> None:
    assert (terms.entities["Kremlin"].label, terms.entities["Kremlin"].country) == ("ORG", "Russia")
    assert terms.entities["Venezuelan"].label == "NORP"
    assert terms.entities["Moscow"].label == "GPE"
    assert terms.entities["Latin America"].label == "LOC"
    assert terms.entities["Dmitry Peskov"].label == "PERSON"
    assert INTERFERENCE in terms.cues["meddling"]
    assert ELECTION_WEAK in terms.cues["victory"]


def test_prefilter_sees_triggers_on_word_boundaries_only(index: TermIndex) -> None:
    assert index.has_trigger("Voters queued at POLLING STATIONS.")
    assert index.has_trigger("Beijing denied meddling.")
    assert not index.has_trigger("The electorally-minded elections2024 hashtag")
    assert not index.has_trigger("A victory for the home team.")  # weak cues alone do not trigger


def test_entities_are_longest_leftmost_and_bounded(index: TermIndex) -> None:
    text = "Russian Federation troops left; the U.S. and USAID staff stayed in Moscow."
    found = [(e.text, e.label) for e in index.entities(text)]
    assert found == [("Russian Federation", "GPE"), ("U.S.", "GPE"), ("Moscow", "GPE")]
