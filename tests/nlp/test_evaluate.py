from __future__ import annotations

from monitor.nlp.evaluate import Item, Prediction, load_items, predict, score, speakers_match
from monitor.nlp.tagger import Tagger
from tests.nlp.conftest import FIXTURES


def test_speaker_matching_rule() -> None:
    assert speakers_match("Dmitry Peskov", "peskov")
    assert speakers_match("Luiz Inacio Lula da Silva", "Lula")
    assert speakers_match("China's foreign ministry", "China")
    assert speakers_match(None, None)
    assert not speakers_match("Dmitry Peskov", "Kremlin")
    assert not speakers_match(None, "Kremlin")


def test_scores_count_per_tag() -> None:
    items = [
        Item("d", "a", frozenset({"election"}), "X"),
        Item("d", "b", frozenset(), None),
        Item("d", "c", frozenset({"foreign_interference"}), None),
    ]
    guesses = [
        Prediction(frozenset({"election"}), "X"),
        Prediction(frozenset({"election"}), None),
        Prediction(frozenset(), "Y"),
    ]
    scores = score(items, guesses)
    assert scores.prf("election") == (0.5, 1.0, 2 / 3)
    assert scores.prf("foreign_interference")[1] == 0.0
    assert (scores.speaker_right, scores.gold_speakers_found, scores.predicted_speakers) == (
        2,
        1,
        2,
    )


def test_sets_are_big_enough_and_predictable(tagger: Tagger) -> None:
    dev = load_items(FIXTURES / "devset.jsonl")
    held = load_items(FIXTURES / "heldout.jsonl")
    assert len(dev) >= 300 and len(held) >= 100
    assert not {i.text for i in dev} & {i.text for i in held}
    predictions = predict(tagger, dev[:20])
    assert len(predictions) == 20
