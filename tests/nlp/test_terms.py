from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.nlp.lexicon import Lexicon
from monitor.nlp.rules import ELECTION, ELECTION_WEAK, INTERFERENCE
from monitor.nlp.terms import EntityTerm, TermIndex, Terms


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


def test_a_term_opening_with_a_symbol_needs_no_boundary_before_it(index: TermIndex) -> None:
    # spaCy splits "41%" into "41" and "%", so its matcher finds "% of the vote";
    # the prefilter must see it too (and in one line of several).
    text = "She won 41% of the vote."
    assert index.has_trigger(text)
    scan = index.scan(text)
    assert scan is not None
    assert index.has_trigger_in(text, [(0, len(text))], scan) is True


def test_entities_are_longest_leftmost_and_bounded(index: TermIndex) -> None:
    text = "Russian Federation troops left; the U.S. and USAID staff stayed in Moscow."
    found = [(e.text, e.label) for e in index.entities(text)]
    assert found == [("Russian Federation", "GPE"), ("U.S.", "GPE"), ("Moscow", "GPE")]


# A small gazetteer with the awkward cases: acronyms that lowercase to common
# substrings, a phrase inside a longer one, letters whose lowercase changes
# length or depends on the neighbours.
_GAZETTEER = (
    "US", "U.S.", "UN", "Us Weekly", "The Hague", "Hague", "İstanbul", "ΣΥΡΙΖΑ", "ΑΡΗΣ",
    "Straße", "von der Leyen",
)  # fmt: skip
_PIECES = st.sampled_from(
    ["US", "us", "U.S.", "Us", "Weekly", "UN", "until", "The", "the", "Hague", "İstanbul",
     "istanbul", "ΣΥΡΙΖΑ", "σύριζα", "ΑΡΗΣ", "Straße", "STRASSE", "von", "der", "Leyen", "election",
     " ", " ", ".", "_", "\n", "é", "1", "K"]
)  # fmt: skip


@pytest.fixture(scope="module")
def small_index() -> TermIndex:
    entities = {phrase: EntityTerm("GPE", None) for phrase in _GAZETTEER}
    return TermIndex(Terms(entities=entities, cues={"election": (ELECTION,)}))


@settings(max_examples=1000, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=20), cut=st.tuples(st.integers(0, 60), st.integers(0, 60)))
@example(pieces=["ΑΡΗΣ", ".", "US"], cut=(0, 9))  # "αρησ.us": the sigma is not final here
def test_entities_from_the_scan_are_those_of_a_pass(
    small_index: TermIndex, pieces: list[str], cut: tuple[int, int]
) -> None:
    text = "".join(pieces)
    scan = small_index.scan(text)
    if scan is None or scan.gazetteer is None:
        assert scan is None or small_index.has_trigger(text) or "Σ" in text
        return
    assert small_index.entities(text, scan=scan) == small_index.entities(text)
    start, end = sorted(min(c, len(text)) for c in cut)
    assert small_index.entities(text, start, end, scan) == small_index.entities(text, start, end)


def test_scan_finds_the_entities_unless_a_trigger_occurs(index: TermIndex) -> None:
    text = "Floods hit Moscow and Kyiv; the U.S. sent aid."
    scan = index.scan(text)
    assert scan is not None and scan.gazetteer is not None
    found = [(e.text, e.start) for e in index.entities(text, scan=scan)]
    assert found == [("Moscow", 11), ("Kyiv", 22), ("U.S.", 32)]
    scan = index.scan("Moscow accused Kyiv of election meddling.")
    assert scan is not None and scan.triggers and scan.gazetteer is None
