"""Scores computed ahead for a batch answer as scoring there and then would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerts.lookup import BatchScores, plain_lookup
from monitor.alerts.story import word_set

#: Few words, so that texts drawn from them overlap a lot and many pairs score high.
WORDS = ("russia", "says", "the", "opposition", "must", "accept", "defeat", "election",
         "third", "countries", "interfering", "kremlin", "warns", "venezuela", "vote")
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=9).map(
    lambda words: word_set(" ".join(words)))


@settings(max_examples=200, deadline=None)
@given(queries=st.lists(texts, min_size=1, max_size=6), choices=st.lists(texts, max_size=12),
       unscored=st.lists(texts, max_size=4), cutoff=st.integers(1, 100))
def test_a_batch_answers_as_the_plain_look_up(
    queries: list[str], choices: list[str], unscored: list[str], cutoff: int
) -> None:
    """Every query's answer, over the choices scored ahead and others it was not
    scored against, in any order, is the plain look-up's."""
    scores = BatchScores()
    scores.add(queries, choices, cutoff)
    asked = list(reversed(choices)) + unscored
    for query in queries:
        assert scores(query, asked, cutoff) == plain_lookup(query, asked, cutoff)


def test_a_query_not_scored_ahead_or_at_another_cutoff_is_scored_then() -> None:
    scores = BatchScores()
    scores.add(["a b c"], ["a b c", "a b d"], 90)
    assert len(scores) == 1
    assert scores("a b c", ["a b d", "a b c"], 90) == [(100.0, 1)]
    assert scores("a b c", ["a b d", "a b c"], 50) == plain_lookup("a b c", ["a b d", "a b c"], 50)
    assert scores("x y", ["x y z"], 90) == [(100.0, 0)]


def test_a_query_added_again_is_scored_against_both_sets_of_choices() -> None:
    """One statement raises several rules: its word set is scored against each
    rule's stories, and every pair is then answered from the batch."""
    scores = BatchScores()
    scores.add(["a b c"], ["a b c"], 90)
    scores.add(["a b c", "d e"], ["d e", "a b"], 90)
    assert len(scores) == 2
    assert scores("a b c", ["d e", "a b c", "a b"], 90) == [(100.0, 1), (100.0, 2)]
    assert scores("d e", ["d e"], 90) == [(100.0, 0)]
    assert scores.scored_late == 0
    assert scores("d e", ["d e", "x y"], 90) == [(100.0, 0)]
    assert scores.scored_late == 1  # "x y" was not foreseen


def test_a_query_added_again_at_another_cutoff_keeps_only_the_new_scores() -> None:
    scores = BatchScores()
    scores.add(["a b c"], ["a b c", "a b"], 90)
    scores.add(["a b c"], ["a b"], 50)
    assert scores("a b c", ["a b"], 50) == plain_lookup("a b c", ["a b"], 50)
    assert scores.scored_late == 0
    assert scores("a b c", ["a b c"], 90) == [(100.0, 0)]
    assert scores.scored_late == 1  # scored again: the scores at 90 were replaced


def test_choices_all_scored_ahead_are_answered_at_every_place_they_hold() -> None:
    """Two stories with the same words are both answered, each at its own index."""
    scores = BatchScores()
    scores.add(["a b c"], ["a b c", "x y z"], 90)
    asked = ["a b c", "x y z", "a b c"]
    assert scores("a b c", asked, 90) == [(100.0, 0), (100.0, 2)] == plain_lookup(
        "a b c", asked, 90)
    assert scores("a b c", ["x y z"], 90) == []
    assert scores.scored_late == 0
