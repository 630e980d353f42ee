"""The spaCy pipeline: a blank English tokenizer (or an installed trained
pipeline) plus the ``monitor_lexicon`` component, which runs phrase matchers
built from the lexicon and leaves:

* ``doc.ents``: gazetteer entities, merged with the trained model's own
  (the gazetteer wins where they overlap);
* ``doc.user_data["monitor.cues"]``: the cue :class:`~monitor.nlp.rules.Hit` list.

A caller that reads the gazetteer entities only as character offsets (the
tagger without a trained model) sets :attr:`LexiconComponent.offsets_only`:
the component then leaves them as ``(label, start_char, end_char)`` triples in
``doc.user_data["monitor.entities"]`` (see :func:`entity_offsets`) instead of
building ``Span`` objects for ``doc.ents``; the triples are exactly the spans
``doc.ents`` would hold.

:class:`ChunkFeeder` makes spaCy's tokenizer cache work on running text.
"""

from __future__ import annotations

from typing import Any

import spacy
from spacy.attrs import IDX, LENGTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from monitor.errors import ConfigError, ConfigProblem
from monitor.nlp.rules import Hit
from monitor.nlp.terms import Terms

CUES_KEY = "monitor.cues"
ENTITIES_KEY = "monitor.entities"
COMPONENT = "monitor_lexicon"
_MODEL_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP"})


class LexiconComponent:
    """Phrase matching of gazetteer entities and cue terms."""

    def __init__(self, nlp: Language) -> None:
        self._nlp = nlp
        self._entities = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._cues = PhraseMatcher(nlp.vocab, attr="LOWER")
        #: Leave entities as offsets in ``user_data`` instead of setting ``doc.ents``
        #: (only for a pipeline with no other entity source).
        self.offsets_only = False

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
        entity_matches = self._entities(doc)
        if self.offsets_only:
            kept = _longest_first(entity_matches)
        else:
            found = [
                Span(doc, start, end, label=match_id) for match_id, start, end in entity_matches
            ]
            model_ents = [e for e in doc.ents if e.label_ in _MODEL_LABELS]
            if found or model_ents:
                doc.ents = filter_spans(found + model_ents)
        hits: list[Hit] = []
        matches = self._cues(doc)
        if matches or (self.offsets_only and kept):
            starts, ends = _token_offsets(doc)
            hits = [
                Hit(strings[kind], starts[start], ends[end - 1]) for kind, start, end in matches
            ]
            if self.offsets_only:
                doc.user_data[ENTITIES_KEY] = [
                    (strings[label], starts[start], ends[end - 1]) for label, start, end in kept
                ]
        elif self.offsets_only:
            doc.user_data[ENTITIES_KEY] = []
        doc.user_data[CUES_KEY] = hits
        return doc


def _token_offsets(doc: Doc) -> tuple[list[int], list[int]]:
    """The start and the end character offset of every token of ``doc``."""
    # Flat lists: ``tolist()`` of a two-column ``to_array([IDX, LENGTH])`` builds
    # a small list per token, which costs more than the matching itself.
    starts = doc.to_array(IDX)
    return starts.tolist(), (starts + doc.to_array(LENGTH)).tolist()


def _longest_first(matches: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """:func:`spacy.util.filter_spans` on ``(label, start, end)`` token matches:
    the same choice (the first longest of overlapping spans), in token order."""
    ordered = sorted(matches, key=lambda m: (m[2] - m[1], -m[1]), reverse=True)
    kept = []
    seen: set[int] = set()
    for match in ordered:
        _, start, end = match
        if start not in seen and end - 1 not in seen:
            kept.append(match)
            seen.update(range(start, end))
    return sorted(kept, key=lambda m: m[1])


@Language.factory(COMPONENT)
def _make_lexicon_component(nlp: Language, name: str) -> LexiconComponent:
    return LexiconComponent(nlp)


def build_pipeline(model: str | None, terms: Terms, language: str = "en") -> Language:
    """spaCy ``blank(language)``, or the installed pipeline ``model``, plus our component."""
    if model is None:
        nlp = spacy.blank(language)
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


def entity_offsets(doc: Doc) -> list[tuple[str, int, int]] | None:
    """The gazetteer entities as ``(label, start_char, end_char)``, when the
    component ran with :attr:`LexiconComponent.offsets_only`; else None (read ``doc.ents``)."""
    found: list[tuple[str, int, int]] | None = doc.user_data.get(ENTITIES_KEY)
    return found


class ChunkFeeder:
    """Makes spaCy's tokenizer cache work on running text.

    The tokenizer caches how it split a whitespace-separated chunk ("said,",
    "Moldova’s") only while no special case ("U.S.", "n't", …) has occurred
    earlier *in the same text* (``Tokenizer._save_cached``: ``if has_special[0]:
    return 0``, spaCy issue #1250), so in news text most chunks are never cached
    and are split again, affix by affix, in every article. :meth:`feed` hands
    each chunk not seen before to the tokenizer on its own, which caches it
    exactly as it would had the chunk opened a text (a chunk that itself holds
    a special case is not cached, as before). The cache only short-cuts the
    split, so tokens — and everything after — are the same. Feeding stops when
    the tokenizer's cache is full (``max_cache_size`` chunks).
    """

    def __init__(self, nlp: Language) -> None:
        tokenizer = nlp.tokenizer
        self._tokenizer = tokenizer if isinstance(tokenizer, Tokenizer) else None
        self._limit = tokenizer.max_cache_size if isinstance(tokenizer, Tokenizer) else 0
        self._fed: set[str] = set()

    def feed(self, text: str) -> None:
        """Tokenize, one at a time, the chunks of ``text`` not fed before."""
        if self._tokenizer is None or len(self._fed) >= self._limit:
            return
        fed = self._fed
        new = [chunk for chunk in set(text.split()) if chunk not in fed]
        for chunk in new:
            self._tokenizer(chunk)
        fed.update(new)
