"""Words of a sentence and name runs (monitor/nlp/words.py)."""

from __future__ import annotations

import pytest

from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.words import outside, run_left, run_right, words_of


def test_words_carry_their_offsets_and_lookup_keys() -> None:
    sentence = "“No,” said U.S. envoy O’Neil-Smith Jr. (in Kyiv) — twice..."
    words = words_of(sentence)
    assert [w.text for w in words] == [
        "“", "No", ",", "”", "said", "U.S.", "envoy", "O’Neil-Smith", "Jr.",
        "(", "in", "Kyiv", ")", "—", "twice.",
    ]  # fmt: skip
    assert [w.key for w in words][5:9] == ["u.s", "envoy", "o’neil-smith", "jr"]
    assert all(sentence[w.start : w.end] == w.text for w in words)


@pytest.mark.parametrize(
    "spans",
    [[], [(3, 9)], [(0, 40), (5, 8)], [(20, 30), (2, 12)], [(5, 15), (10, 25)], [(7, 7), (9, 4)]],
)
def test_outside_drops_the_words_that_start_in_a_span(spans: list[tuple[int, int]]) -> None:
    words = words_of("One two three, four “five six” seven eight nine.")
    expected = [w for w in words if not any(s <= w.start < e for s, e in spans)]
    assert outside(words, spans) == expected


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        (
            "The Ministry of Culture, Sports and Tourism said",
            "Ministry of Culture, Sports and Tourism",
        ),
        ("Officials from Kenya, Uganda and Tanzania said", "Tanzania"),
        ("Lavrov and Peskov said", "Peskov"),
        ("Bank of Korea said", "Bank of Korea"),
    ],
)
def test_run_left_takes_in_the_list_of_an_of_name(
    sentence: str, name: str, speech: SpeechRules
) -> None:
    words = words_of(sentence)
    last = len(words) - 2  # the word before the verb
    first = run_left(words, last, speech)
    assert sentence[words[first].start : words[last].end] == name


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        (
            "according to the Ministry of Patriots and Veterans Affairs, Han, 72, and others",
            "Ministry of Patriots and Veterans Affairs",
        ),
        (
            "according to the Ministry of Trade, Industry and Energy",
            "Ministry of Trade, Industry and Energy",
        ),
        ("according to Lavrov and Peskov", "Lavrov"),
    ],
)
def test_run_right_stops_after_the_name_after_and(
    sentence: str, name: str, speech: SpeechRules
) -> None:
    words = words_of(sentence)
    first = next(i for i, w in enumerate(words) if w.text[0].isupper())
    last = run_right(words, first, speech)
    assert sentence[words[first].start : words[last].end] == name
