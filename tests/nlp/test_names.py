"""Speaker names from words (monitor/nlp/names.py)."""

from __future__ import annotations

import pytest

from monitor.nlp.names import clean_name, definite_institution, definite_role, institution_phrase
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.words import words_of


@pytest.mark.parametrize(
    ("run", "name", "person"),
    [
        ("Russian President Vladimir Putin", "Vladimir Putin", True),
        ("President of Brazil Luiz Inacio Lula da Silva", "Luiz Inacio Lula da Silva", True),
        ("Director of National Intelligence", "Director of National Intelligence", False),
        ("Peskov's", "Peskov", False),
        ("the FSS'", "FSS", False),
    ],
)
def test_clean_name_drops_titles_determiners_and_possessives(
    run: str, name: str, person: bool, speech: SpeechRules
) -> None:
    found = clean_name(run, words_of(run), speech)
    assert found is not None and (found.name, found.person) == (name, person)
    assert run[found.start : found.end] == name


def test_a_generic_word_alone_is_no_name(speech: SpeechRules) -> None:
    assert clean_name("Analysts", words_of("Analysts"), speech) is None


def test_institution_phrase_and_definite_descriptions(speech: SpeechRules) -> None:
    words = words_of("Moldova's intelligence service")
    found = institution_phrase("Moldova's intelligence service", words, 2, speech)
    assert found is not None and found.name == "Moldova's intelligence service"
    words = words_of("the foreign minister")
    role = definite_role("the foreign minister", words, 2, speech)
    assert role is not None and (role.role, role.person) == ("minister", True)
    words = words_of("the electoral court")
    court = definite_institution("the electoral court", words, 2, speech)
    assert court is not None and (court.role, court.person) == ("court", False)
    words = words_of("the police")
    assert definite_institution("the police", words, 1, speech) is None  # nobody in particular
