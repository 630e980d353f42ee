"""The spaCy pipeline: a blank English tokenizer (or an installed trained
pipeline) plus the ``monitor_lexicon`` component, which runs phrase matchers
built from the lexicon and leaves:

* ``doc.ents``: gazetteer entities, merged with the trained model's own
  (the gazetteer wins where they overlap);
* ``doc.user_data["monitor.cues"]``: the cue :class:`~monitor.nlp.rules.Hit` list.
"""

from __future__ import annotations

from typing import Any

import spacy
from spacy.attrs import IDX, LENGTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from monitor.errors import ConfigError, ConfigProblem
from monitor.nlp.rules import Hit
from monitor.nlp.terms import Terms

CUES_KEY = "monitor.cues"
COMPONENT = "monitor_lexicon"
_MODEL_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP"})


class LexiconComponent:
    """Phrase matching of gazetteer entities and cue terms."""

    def __init__(self, nlp: Language) -> None:
        self._nlp = nlp
        self._entities = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._cues = PhraseMatcher(nlp.vocab, attr="LOWER")

    def load(self, terms: Terms) -> None:
        """Add the lexicon's phrases; called once after the pipeline is built."""
        by_label: dict[str, list[Doc]] = {}
        for phrase, term in terms.entities.items():
            by_label.setdefault(term.label, []).append(self._nlp.make_doc(phrase))
        for label, docs in by_label.items():
            self._entities.add(label, docs)
        by_kind: dict[str, list[Doc]] = {}
        for phrase, kinds in terms.cues.items():
            for kind in kinds:
                by_kind.setdefault(kind, []).append(self._nlp.make_doc(phrase))
        for kind, docs in by_kind.items():
            self._cues.add(kind, docs)

    def __call__(self, doc: Doc) -> Doc:
        strings = doc.vocab.strings
        found = [
            Span(doc, start, end, label=match_id) for match_id, start, end in self._entities(doc)
        ]
        model_ents = [e for e in doc.ents if e.label_ in _MODEL_LABELS]
        if found or model_ents:
            doc.ents = filter_spans(found + model_ents)
        hits = []
        matches = self._cues(doc)
        if matches:
            offsets = doc.to_array([IDX, LENGTH])
            for match_id, start, end in matches:
                last = offsets[end - 1]
                hits.append(Hit(strings[match_id], int(offsets[start][0]), int(last[0] + last[1])))
        doc.user_data[CUES_KEY] = hits
        return doc


@Language.factory(COMPONENT)
def _make_lexicon_component(nlp: Language, name: str) -> LexiconComponent:
    return LexiconComponent(nlp)


def build_pipeline(model: str | None, terms: Terms) -> Language:
    """spaCy ``blank("en")``, or the installed pipeline ``model``, plus our component."""
    if model is None:
        nlp = spacy.blank("en")
    else:
        try:
            nlp = spacy.load(model, exclude=["lemmatizer", "textcat"])
        except (OSError, ImportError, ValueError) as exc:
            problem = ConfigProblem("monitor.yaml", "nlp.model", f"cannot load {model!r}: {exc}")
            raise ConfigError([problem]) from exc
    component: Any = nlp.add_pipe(COMPONENT, last=True)
    component.load(terms)
    return nlp


def cue_hits(doc: Doc) -> list[Hit]:
    """The cue hits the component left on ``doc``."""
    hits: list[Hit] = doc.user_data.get(CUES_KEY, [])
    return hits
