"""Property: any text gives a result whose offsets index it, or a poison error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import PoisonError
from monitor.nlp.tagger import Tagger
from tests.nlp.conftest import assert_offsets_index

_WORDS = st.sampled_from(
    [
        "Kremlin", "said", "election", "“", "”", '"', "‘", "’", "'", "he", "told",
        "meddling", "Venezuela’s", "\n", ".", ",", "Dear readers,", "Read more",
        "according to", "Mr.", "U.S.", "interference", "×", "vote", " ", "Peskov",
    ]
)  # fmt: skip
_TEXTS = st.one_of(
    st.text(max_size=400),
    st.lists(_WORDS, max_size=80).map(" ".join),
    st.lists(_WORDS, max_size=80).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS)
def test_any_text_is_tagged_consistently_or_refused(tagger: Tagger, text: str) -> None:
    try:
        result = tagger.tag(text)
    except PoisonError:
        return
    assert_offsets_index(text, result)
    for statement in result.statements:
        assert statement.text.strip() == statement.text and statement.text
    for entity in result.entities:
        assert text[entity.start : entity.end] == entity.text
    for block in result.boilerplate:
        assert not any(s.start < block.end and block.start < s.end for s in result.statements)
