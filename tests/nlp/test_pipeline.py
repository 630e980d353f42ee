from __future__ import annotations

from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from monitor.nlp.lexicon import Lexicon
from monitor.nlp.pipeline import COMPONENT, _token_offsets, build_pipeline, cue_hits
from monitor.nlp.terms import Terms


@Language.component("test_fake_ner")
def _fake_ner(doc: Doc) -> Doc:
    """Stands in for a trained model's NER: labels the first two tokens PERSON."""
    doc.ents = [Span(doc, 0, 2, label="PERSON")]
    return doc


def test_blank_pipeline_finds_entities_and_cues(lexicon: Lexicon) -> None:
    nlp = build_pipeline(None, Terms.from_lexicon(lexicon))
    doc = nlp("The Kremlin denied meddling in the election.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Kremlin", "ORG")]
    kinds = {(h.kind, doc.text[h.start : h.end]) for h in cue_hits(doc)}
    assert ("interference", "meddling") in kinds and ("election", "election") in kinds


def test_model_entities_are_kept_where_the_gazetteer_has_none(lexicon: Lexicon) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("test_fake_ner")
    component: Any = nlp.add_pipe(COMPONENT)
    component.load(Terms.from_lexicon(lexicon))
    doc = nlp("Ana Lopez met Putin in Moscow.")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Ana Lopez", "PERSON"),
        ("Putin", "PERSON"),
        ("Moscow", "GPE"),
    ]


def test_token_offsets_are_the_character_spans_of_the_tokens() -> None:
    doc = spacy.blank("en")("Moldova’s  vote, “rigged” — U.S. officials said.\n")
    starts, ends = _token_offsets(doc)
    assert starts == [token.idx for token in doc]
    assert ends == [token.idx + len(token) for token in doc]
    assert all(type(offset) is int for offset in starts + ends)
