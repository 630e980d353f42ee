"""Home states and targeted votes (monitor/nlp/scope.py) on the project's lexicon."""

from __future__ import annotations

import pytest

from monitor.nlp.lexicon import Lexicon
from monitor.nlp.rules import ELECTION, INTERFERENCE, INTERFERENCE_WEAK, Hit
from monitor.nlp.scope import ScopeRules
from monitor.nlp.tagger import Tagger
from monitor.nlp.terms import EntityHit, TermIndex, Terms


@pytest.fixture(scope="module")
def scope(lexicon: Lexicon) -> ScopeRules:
    return ScopeRules.from_cues(lexicon.cues)


@pytest.fixture(scope="module")
def index(lexicon: Lexicon) -> TermIndex:
    return TermIndex(Terms.from_lexicon(lexicon))


def _home(
    text: str, scope: ScopeRules, index: TermIndex, hits: list[Hit] | None = None
) -> set[str]:
    entities: list[EntityHit] = index.entities(text)
    return set(scope.home_states(text, (0, len(text)), entities, hits or []))


@pytest.mark.parametrize(
    ("text", "home"),
    [
        ("The ruling party spread disinformation ahead of Kenya's election", {"Kenya"}),
        ("Hungarian opposition says state media propaganda skewed the election", {"Hungary"}),
        ("India's election commission removed fake accounts and deepfakes", {"India"}),
        ("Fake stories spread before Kenya's presidential election.", {"Kenya"}),
        ("Fake stories spread before the election in Kenya.", {"Kenya"}),
        ("Elections in Kenya and Uganda were marred by false stories.", {"Kenya", "Uganda"}),
        ("Russia interfered in Moldova's vote.", {"Moldova"}),
        ("Russian hackers targeted voters.", set()),
        ("Moscow tried to sway the election.", set()),
    ],
)
def test_home_states(scope: ScopeRules, index: TermIndex, text: str, home: set[str]) -> None:
    assert _home(text, scope, index) == home


def test_a_home_word_inside_or_before_an_interference_cue_does_not_count(
    scope: ScopeRules, index: TermIndex
) -> None:
    covered = "Russian election interference was exposed."
    assert _home(covered, scope, index, [Hit(INTERFERENCE, 8, 29)]) == set()
    followed = "Chinese election disinformation spread online."
    assert _home(followed, scope, index, [Hit(INTERFERENCE_WEAK, 17, 31)]) == set()


@pytest.mark.parametrize(
    ("text", "cue", "vote"),
    [
        ("Beijing warned against any interference in the vote.", "interference", "vote"),
        ("Russia interfered in Moldova's vote.", "interfered", "vote"),
        ("Moscow tried to sway the presidential vote.", "sway", "vote"),
        ("Russia interfered in Moldova's politics before the vote.", "interfered", None),
        # Headline capitals on the little words.
        ("EU Warns China Against Interfering In Taiwan Vote", "Interfering", "Vote"),
        ("Russia Accused Of Meddling In The Vote", "Meddling", "Vote"),
    ],
)
def test_targeted_votes(scope: ScopeRules, text: str, cue: str, vote: str | None) -> None:
    start = text.index(cue)
    found = scope.targeted_votes(text, len(text), [Hit(INTERFERENCE_WEAK, start, start + len(cue))])
    expected = [] if vote is None else [Hit(ELECTION, text.index(vote), text.index(vote) + 4)]
    assert found == expected


@pytest.mark.parametrize(
    ("before", "home"),
    [
        ("Fake stories spread before the election in ", True),
        ("the vote in the ", True),
        ("the election in\u00a0", True),  # any Unicode whitespace is ``\\s``
        ("the election in the\n", True),
        ("elections in  \u2028", True),
        ("the election IN ", False),  # "in" and "the" are case-sensitive
        ("the election within ", False),
        ("the election inthe ", False),
        ("the election in", False),
        ("the campaign over ", False),
        ("", False),
    ],
)
def test_home_before_around_its_quick_test(scope: ScopeRules, before: str, home: bool) -> None:
    text = before + "Kenya"
    kenya = EntityHit("Kenya", "GPE", len(before), len(text), "Kenya")
    found = scope.home_states(text, (0, len(text)), [kenya], [])
    assert found == ({"Kenya"} if home else frozenset())


def test_rules_are_off_without_word_lists() -> None:
    empty = ScopeRules()
    text = "Russia interfered in Moldova's vote."
    assert empty.targeted_votes(text, len(text), [Hit(INTERFERENCE_WEAK, 7, 17)]) == []
    moldova = EntityHit("Moldova", "GPE", 21, 28, "Moldova")
    assert empty.home_states(text, (0, len(text)), [moldova], []) == frozenset()


def test_nothing_outside_the_sentence_is_read(scope: ScopeRules, index: TermIndex) -> None:
    text = "MEDDLING\rVOTE"
    assert scope.targeted_votes(text, 8, [Hit(INTERFERENCE, 0, 8)]) == []
    text = "They fled Russia\nelections were calm."
    russia = index.entities(text)[0]
    assert scope.home_states(text, (0, 16), [russia], []) == frozenset()
    assert scope.home_states(text, (0, len(text)), [russia], []) == {"Russia"}
    text = "The election in\nRussia was calm."
    russia = index.entities(text)[0]
    assert scope.home_states(text, (16, len(text)), [russia], []) == frozenset()
    assert scope.home_states(text, (0, len(text)), [russia], []) == {"Russia"}


def test_a_home_state_stays_home_across_the_article(tagger: Tagger) -> None:
    """The election's own country, once named as home ("the American public"),
    is no foreign actor in a later sentence that names it plainly ("U.S.
    military bases"); another state in the same article still is."""
    own = (
        "Fake videos\n"
        "Fake videos aim to mislead the American public before the election.\n"
        "One video makes claims of vote buying schemes at U.S. military bases."
    )
    assert all("foreign_interference" not in s.tags for s in tagger.tag(own).statements)
    foreign = own + "\nRussia funded vote buying schemes in the election, officials said."
    tagged = [s for s in tagger.tag(foreign).statements if "foreign_interference" in s.tags]
    assert "Russia" in [s.text[:6] for s in tagged]


def test_overseas_alone_is_a_place_not_a_foreign_actor(tagger: Tagger) -> None:
    text = "Votes\nThe video alleges vote buying among troops serving overseas in the election."
    assert all("foreign_interference" not in s.tags for s in tagger.tag(text).statements)
    marked = "Votes\nVote buying funded from overseas distorted the election."
    assert any("foreign_interference" in s.tags for s in tagger.tag(marked).statements)


def test_a_denied_place_is_no_home(scope: ScopeRules, index: TermIndex) -> None:
    text = "Our votes should be decided in our villages, not in Beijing."
    assert _home(text, scope, index) == set()
    assert _home("Food programs in Venezuela ahead of the vote.", scope, index) == {"Venezuela"}


def test_the_one_state_an_article_names_as_its_place_is_home_throughout(tagger: Tagger) -> None:
    """An article whose only state is named as where its politics happen
    ("lawmakers in Pakistan") reports that state's own agencies at home: their
    meddling in its elections is no foreign interference. A second state
    named anywhere in the article keeps the foreign reading."""
    own = (
        "Spy agency accused\n"
        "Opposition lawmakers in Pakistan accused the spy agency of pressure on them.\n"
        "The agency is notorious for allegedly orchestrating the making or breaking of"
        " elected governments at the behest of Pakistan's powerful military."
    )
    assert all("foreign_interference" not in s.tags for s in tagger.tag(own).statements)
    other = own.replace("Opposition lawmakers", "Russian and opposition lawmakers")
    tagged = [s.text[:10] for s in tagger.tag(other).statements if s.tags]
    assert "The agency" in tagged
