"""The shortcuts taken for speed give exactly what the plain way gives.

Each test holds the plain version (usually the code the shortcut replaced) as
its oracle. The prefilter's own shortcuts are checked end to end against the
full path in ``test_tagger.py::test_prefilter_does_not_change_results``; the
ones here are shared by both paths, so that test cannot see them.
"""

from __future__ import annotations

import json
import re
import sys

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.util import filter_spans

from bench.bench_nlp import build_corpus
from monitor.messages import Evidence, Span, Statement
from monitor.nlp.lexicon import Lexicon
from monitor.nlp.memory import _chunks_back, _written_before
from monitor.nlp.phrases import FOLD_TRAPS, PhraseSet
from monitor.nlp.pipeline import COMPONENT, ChunkFeeder, _longest_first, build_pipeline
from monitor.nlp.result import TagResult
from monitor.nlp.segment import _ABBREVIATIONS, _LAST_WORD, _is_abbreviation, _trim
from monitor.nlp.tagger import Tagger
from monitor.nlp.terms import Terms
from monitor.nlp.words import Word, words_of

#: Characters that make the edge cases: word characters, the punctuation the
#: rules look at, whitespace of several kinds, and the case-folding oddities.
_CHARS = st.sampled_from(list("ab AZ.'’-_“”\",:;()—–!?…\n\t\r\u00a0\u2028xé1ßİıſΣσK\ufeff"))
_TEXT = st.text(_CHARS, max_size=60)


@settings(max_examples=1000, deadline=None)
@given(sentence=_TEXT)
def test_words_of_is_one_regex_match_per_word(sentence: str) -> None:
    plain = re.compile(r"\w(?:[\w'’-]|\.(?=\w))*\.?|[“”\"‘’,:;()—–]")  # the earlier pattern
    expected = [
        Word(m.group(0), m.start(), m.end(), m.group(0).lower().rstrip("."))
        for m in plain.finditer(sentence)
    ]
    assert words_of(sentence) == expected


@settings(max_examples=1000, deadline=None)
@given(sentence=_TEXT)
def test_abbreviation_test_reads_the_last_word_as_a_search_would(sentence: str) -> None:
    match = _LAST_WORD.search(sentence)  # what the test did, searching the whole sentence
    if match is None:
        expected = False
    else:
        word = match.group(1).lower().lstrip("(\"“‘'")
        expected = (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS
    assert _is_abbreviation(sentence) == expected


@settings(max_examples=500, deadline=None)
@given(text=_TEXT, start=st.integers(0, 60), end=st.integers(0, 60))
def test_trim_takes_the_short_way_only_when_it_may(text: str, start: int, end: int) -> None:
    start, end = min(start, len(text)), min(max(start, end), len(text))
    first, last = start, end
    while first < last and (text[first].isspace() or text[first] == "\ufeff"):
        first += 1
    while last > first and text[last - 1].isspace():
        last -= 1
    assert _trim(text, start, end) == (first, last)


_NAMES = st.lists(
    st.sampled_from(["Bellini", "Marco", "Mr.", "the", "xBellini", "Bel", "O’Neil", "B", "said"]),
    max_size=14,
)
_GAPS = st.lists(st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", "", ", "]), min_size=14)


@settings(max_examples=1000, deadline=None)
@given(words=_NAMES, gaps=_GAPS, name=st.sampled_from(["Bellini", "Marco", "B"]))
def test_written_before_searches_from_late_enough(
    words: list[str], gaps: list[str], name: str
) -> None:
    earlier = "".join(word + gap for word, gap in zip(words, gaps, strict=False))
    pattern = _written_before(name)
    expected = pattern.search(earlier)
    first = earlier.find(name)
    got = None if first < 0 else pattern.search(earlier, _chunks_back(earlier, first, 4))
    assert (got and (got.span(), got.group(1))) == (
        expected and (expected.span(), expected.group(1))
    )


def test_fold_traps_are_every_letter_lowercasing_hides_from_re() -> None:
    """Of all characters ``re.IGNORECASE`` matches to an ASCII letter, the
    ones ``str.lower`` does not turn into that letter and that keep their length."""
    letter = re.compile(r"(?i)[a-z]")
    found = set()
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        if letter.match(char) and len(char.lower()) == 1 and not char.lower().isascii():
            found.add(char)
    assert found == set(FOLD_TRAPS)


@settings(max_examples=1000, deadline=None)
@given(text=st.text(st.sampled_from(list("adegilnoprstuy IDSKıſİΣ_-1é\n")), max_size=40))
def test_phrase_set_absent_only_when_the_regex_finds_nothing(text: str) -> None:
    phrases = ("donate", "donation", "support us", "your support", "readers")
    regex = re.compile(r"(?i)\b(?:support us|your support|donation|donate|readers)\b")
    if PhraseSet(phrases).absent(text):
        assert regex.search(text) is None
    elif text.isascii():  # only the fold traps and length changes leave it unsure
        assert regex.search(text) is not None


_TWENTY_WORDS = spacy.blank("en")("w " * 20)


@settings(max_examples=500, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 12), st.integers(1, 4)).map(
            lambda m: (m[0], m[1], m[1] + m[2])
        ),
        max_size=12,
    )
)
def test_longest_first_chooses_as_filter_spans(spans: list[tuple[int, int, int]]) -> None:
    doc = _TWENTY_WORDS
    chosen = filter_spans([doc[start:end] for _, start, end in spans])
    # filter_spans keeps the first of equal spans; so does _longest_first
    expected = [(s.start, s.end) for s in chosen]
    assert [(start, end) for _, start, end in _longest_first(spans)] == expected


def test_entity_offsets_are_the_spans_doc_ents_would_hold(lexicon: Lexicon) -> None:
    terms = Terms.from_lexicon(lexicon)
    with_ents, with_offsets = build_pipeline(None, terms), build_pipeline(None, terms)
    component = with_offsets.get_pipe(COMPONENT)
    component.offsets_only = True  # type: ignore[attr-defined]
    for text in build_corpus(40, 2, seed=9):
        expected = [(e.label_, e.start_char, e.end_char) for e in with_ents(text).ents]
        assert with_offsets(text).user_data["monitor.entities"] == expected


def test_feeding_the_tokenizer_cache_keeps_every_token(lexicon: Lexicon) -> None:
    terms = Terms.from_lexicon(lexicon)
    plain, fed = build_pipeline(None, terms), build_pipeline(None, terms)
    feeder = ChunkFeeder(fed)
    texts = [*build_corpus(40, 2, seed=8), "U.S. officials didn't say (Moldova's) “vote”…  \n x"]
    for text in texts:
        feeder.feed(text)
    for text in texts:
        expected = [(t.text, t.idx, t.whitespace_) for t in plain.make_doc(text)]
        assert [(t.text, t.idx, t.whitespace_) for t in fed.make_doc(text)] == expected


_ODD = st.text(st.sampled_from(list('a"\\/\n\t\x00\x1f\u2028é😀“”<>&\x7f')), max_size=12)


@settings(max_examples=300, deadline=None)
@given(text=_ODD, other=_ODD, speaker=st.none() | _ODD, item_id=st.none() | _ODD | st.integers())
def test_json_text_is_json_dumps_of_the_contract_object(
    text: str, other: str, speaker: str | None, item_id: str | int | None
) -> None:
    statement = Statement(
        text,
        0,
        len(text),
        ("election", other),
        speaker,
        other or None,
        (Evidence("election", other, 1, 2),),
    )
    # Statements with one field set each: the writer has a shortcut for none set.
    partial = (
        Statement(other, 5, 9),
        Statement(other, 5, 9, speaker=speaker),
        Statement(other, 5, 9, quote=text),
        Statement(other, 5, 9, evidence=(Evidence("election", text, 5, 6),)),
        Statement(other, 5, 9, tags=("election",)),
    )
    result = TagResult(
        (statement, *partial),
        (Span(other, 0, 3, "GPE"), Span(text, 4, 5, "ORG")),
        (Span(text, 7, 9, "BOILERPLATE"),),
    )
    assert result.to_json_text() == json.dumps(result.to_json(), ensure_ascii=False)
    assert result.to_json_text(item_id) == json.dumps(
        {"id": item_id, **result.to_json()}, ensure_ascii=False
    )
    assert TagResult().to_json_text() == json.dumps(TagResult().to_json(), ensure_ascii=False)


def test_json_text_of_tagged_articles(tagger: Tagger) -> None:
    for result in tagger.tag_many(build_corpus(60, 3, seed=7)):
        assert result.to_json_text() == json.dumps(result.to_json(), ensure_ascii=False)
