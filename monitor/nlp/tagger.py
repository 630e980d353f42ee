"""The tagger: article text in, statements, entities and boilerplate out.

:meth:`Tagger.tag` and :meth:`Tagger.tag_many` are the whole public surface.
Work per article:

1. refuse binary junk (:class:`BinaryText`, a poison error);
2. find boilerplate lines (config rules + heuristics) and statement spans;
   an article longer than ``max_chars`` is then cut into pieces of at most
   that size between statements (:mod:`monitor.nlp.pieces`), and steps 3–4
   run per piece, their offsets shifted back (article context — election and
   interference context, speaker memory — does not cross pieces);
3. prefilter: if no trigger cue occurs outside the boilerplate, entities come
   from the Aho-Corasick gazetteer index and every statement gets ``tags=[]``;
   otherwise the spaCy pipeline runs and its phrase matches drive the rules —
   on the lines that hold a cue only (the others are blanked to spaces, which
   keeps offsets, and take their entities from the gazetteer index), unless a
   trained model is configured, which reads everything;
4. assemble statements with quotes, speakers, tags and evidence.

:class:`~monitor.nlp.result.TagResult` holds the answer; its
:meth:`~monitor.nlp.result.TagResult.to_json_text` writes the contract JSON.

Speed (see the NLP section of ``docs/benchmarks.md``): with the prefilter on,
one Aho-Corasick pass over the lowercased article finds appeal terms (so
lines without one skip the appeal regex), trigger cues, all cues, speech
verbs and (unless a trigger cue occurs) gazetteer phrases at once
(:meth:`~monitor.nlp.terms.TermIndex.scan`); the blank
pipeline hands its gazetteer entities back as offsets rather than ``Span``
objects; and :class:`~monitor.nlp.pipeline.ChunkFeeder` lets spaCy's
tokenizer cache work on running text. None of it changes a result:
``tests/nlp/test_tagger.py::test_prefilter_does_not_change_results`` checks
the fast path against the full one (``prefilter: false``) and
``tests/nlp/test_fast_paths.py`` each shared shortcut against its plain form.
"""

from __future__ import annotations

import pathlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any, ClassVar

from spacy.language import Language
from spacy.tokens import Doc

from monitor.errors import PoisonError
from monitor.messages import Span, Statement
from monitor.nlp.assemble import Context, build_statements
from monitor.nlp.boilerplate import (
    BoilerplateRules,
    Line,
    boilerplate_lines,
    boilerplate_spans,
    split_lines,
)
from monitor.nlp.framing import FramingRules
from monitor.nlp.inflection import nominative_names
from monitor.nlp.lexicon import BackReferences, Lexicon, load_lexicon
from monitor.nlp.patterns import CuePatterns
from monitor.nlp.pieces import Piece, cut_pieces
from monitor.nlp.pipeline import COMPONENT, ChunkFeeder, build_pipeline, cue_hits, entity_offsets
from monitor.nlp.result import TagResult, joined, shifted
from monitor.nlp.rules import (
    INTERFERENCE_WEAK,
    Hit,
    back_reference,
    has_election_context,
    non_political_article,
)
from monitor.nlp.scope import ScopeRules
from monitor.nlp.segment import statement_spans
from monitor.nlp.settings import NlpSettings
from monitor.nlp.speech_rules import SpeechRules, trigger_words
from monitor.nlp.terms import EntityHit, LowerScan, TermIndex, Terms, WordFinder

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


class BinaryText(PoisonError):
    """The text is not readable text (NUL bytes, control characters)."""

    reason: ClassVar[str] = "binary_text"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An article (or a piece of a long one) after the cheap steps, before (maybe) spaCy."""

    piece: Piece
    heavy: bool
    #: What spaCy reads: the piece's text with lines holding no cue blanked to
    #: spaces (same offsets; a run of spaces is one cheap token).
    spacy_text: str = ""
    #: The blanked lines; their entities come from the gazetteer index.
    blanked: tuple[tuple[int, int], ...] = ()
    #: Sorted offsets of the speech words, when already found (else None).
    speech_at: list[int] | None = None
    #: The scan of the piece's text, when made (it spares the gazetteer pass).
    scan: LowerScan | None = None


def check_text(text: str) -> None:
    """Raise :class:`BinaryText` for text that is clearly not text."""
    sample = text[:20_000]
    if "\x00" in sample:
        raise BinaryText("input looks binary: it contains NUL characters")
    if _CONTROL.search(sample) is None:  # the common case, without a list of them
        return
    controls = len(_CONTROL.findall(sample))
    if sample and controls / len(sample) > 0.01:
        raise BinaryText(f"input looks binary: {controls} control characters")


class Tagger:
    """Tags articles; build it once per process with :meth:`from_settings`."""

    def __init__(
        self, settings: NlpSettings, lexicon: Lexicon, nlp: Language, language: str = "en"
    ) -> None:
        terms = Terms.from_lexicon(lexicon)
        self.language = language
        self._settings = settings
        self._lexicon = lexicon
        self._nlp = nlp
        speech_words = trigger_words(lexicon.speech)
        self._index = TermIndex(terms, speech_words, lexicon.boilerplate.appeal_terms)
        self._boilerplate = BoilerplateRules.compile(lexicon.boilerplate, "boilerplate.yaml")
        self._speech = SpeechRules.from_lexicon(lexicon.speech, lexicon.gazetteer)
        self._speech_words = WordFinder(speech_words)
        self._scope = ScopeRules.from_cues(lexicon.cues)
        self._framing = FramingRules.from_lexicon(lexicon.speech.framing)
        patterns = lexicon.cues.foreign_interference.weak_patterns
        self._weak_patterns = CuePatterns(patterns) if patterns else None
        self._references = _back_references(lexicon.cues.foreign_interference)
        election = lexicon.cues.election
        self._election_references = _back_references(election) if election.references else None
        self._feeder = ChunkFeeder(nlp)
        self._speaker_form = (
            nominative_names(language) if lexicon.speech.speaker_case == "nominative" else None
        )
        if nlp.pipe_names == [COMPONENT]:  # no other entity source: offsets suffice
            component: Any = nlp.get_pipe(COMPONENT)
            component.offsets_only = True

    @classmethod
    def from_settings(
        cls, settings: NlpSettings, config_dir: pathlib.Path, language: str = "en"
    ) -> Tagger:
        """Load the lexicon of ``language`` (:meth:`NlpSettings.lexicon_folder`)
        from ``config_dir`` and build
        the pipeline (``spacy.blank(language)``, or the trained model for English).

        Raises :class:`~monitor.errors.ConfigError` for a missing or invalid lexicon
        or a model that is not installed.
        """
        lexicon = load_lexicon(config_dir / settings.lexicon_folder(language))
        model = settings.model if language == "en" else None
        nlp = build_pipeline(model, Terms.from_lexicon(lexicon), language)
        return cls(settings, lexicon, nlp, language)

    def untagged(self, text: str, language: str | None) -> TagResult:
        """``text`` split into statements with no tag, speaker or entity: for a
        language no lexicon is configured for (never tagged with these rules)."""
        check_text(text)
        lines = split_lines(text)
        flags = boilerplate_lines(lines, self._boilerplate, None)
        spans = statement_spans(text, lines, flags)
        boiler = boilerplate_spans(text, lines, flags)
        return TagResult(
            statements=tuple(Statement(text[s:e], s, e, (), None, None, (), ()) for s, e in spans),
            boilerplate=tuple(Span(text[s:e], s, e, "BOILERPLATE") for s, e in boiler),
            language=language,
        )

    def tag(self, text: str, author: str | None = None) -> TagResult:
        """Tag one article (headline, line break, body); ``author`` is what its
        feed entry gives, if anything: the author of a statement or speech
        whose framing names nobody (see :mod:`monitor.nlp.framing`)."""
        return next(self.tag_many([text], [author]))

    def tag_many(
        self, texts: Iterable[str], authors: Iterable[str | None] | None = None
    ) -> Iterator[TagResult]:
        """Tag a stream of articles in order; spaCy runs in batches via ``nlp.pipe``.

        Raises :class:`BinaryText` when it reaches an unreadable text, after yielding
        the results of the texts before it; later texts are not tagged (callers that
        must go on call :meth:`tag` per text).
        """
        iterator = iter(texts)
        author_of = iter(authors) if authors is not None else None
        while batch := list(islice(iterator, self._settings.batch_size)):
            batch_authors: list[str | None] = (
                [next(author_of, None) for _ in batch] if author_of else [None] * len(batch)
            )
            prepared = [self._prepare_or_error(text) for text in batch]
            heavy = [
                piece.spacy_text
                for pieces in prepared
                if not isinstance(pieces, BinaryText)
                for piece in pieces
                if piece.heavy
            ]
            for text in heavy:
                self._feeder.feed(text)
            results, unreadable = self._tag_prepared(heavy, prepared, batch_authors)
            yield from results
            if unreadable is not None:
                raise unreadable

    def _tag_prepared(
        self,
        heavy: list[str],
        prepared: list[list[_Prepared] | BinaryText],
        authors: list[str | None],
    ) -> tuple[list[TagResult], BinaryText | None]:
        """The results of one batch, up to its first unreadable text (returned too).

        spaCy runs inside a memory zone: the words and strings it meets for the
        first time in these articles are forgotten afterwards, so a daemon's
        vocabulary does not grow with every new name and number it reads (the
        chunk feeder's words, a bounded set, stay; results hold no spaCy object).
        """
        results: list[TagResult] = []
        with self._nlp.memory_zone():
            docs = iter(self._nlp.pipe(heavy)) if heavy else iter(())
            for item, author in zip(prepared, authors, strict=True):
                if isinstance(item, BinaryText):
                    return results, item
                results.append(
                    joined([self._finish(p, next(docs) if p.heavy else None, author) for p in item])
                )
        return results, None

    def _prepare_or_error(self, text: str) -> list[_Prepared] | BinaryText:
        try:
            return self._prepare(text)
        except BinaryText as exc:
            return exc

    def _prepare(self, text: str) -> list[_Prepared]:
        """The cheap steps on the whole article, then one :class:`_Prepared` per piece."""
        check_text(text)
        lines = split_lines(text)
        # With the prefilter, one pass over the lowercased text finds the
        # appeal terms (for boilerplate), triggers, cues and speech words; the
        # single-purpose tests answer where it cannot.
        scan = self._index.scan(text) if self._settings.prefilter else None
        flags = boilerplate_lines(lines, self._boilerplate, None if scan is None else scan.appeals)
        spans = statement_spans(text, lines, flags)
        boiler = boilerplate_spans(text, lines, flags)
        pieces = cut_pieces(text, lines, flags, spans, boiler, self._settings.max_chars)
        if len(pieces) > 1:
            return [self._prepare_piece(piece) for piece in pieces]
        return [self._prepare_piece(pieces[0], scan)]  # the piece is the text: reuse the scan

    def _prepare_piece(self, piece: Piece, scan: LowerScan | None = None) -> _Prepared:
        """Decide whether spaCy reads the piece, and what of it (offsets are the piece's);
        ``scan`` is of the piece's text, if already made."""
        text, spans = piece.text, piece.spans
        if not self._settings.prefilter:
            return _Prepared(piece, bool(spans), text)
        if not spans:
            return _Prepared(piece, False)
        if scan is None:
            scan = self._index.scan(text)
        trigger = None if scan is None else self._index.has_trigger_in(text, spans, scan)
        if trigger is None:
            content = "\n".join(text[start:end] for start, end in spans)
            trigger = self._index.has_trigger(content)
        speech_at = self._speech_words.starts(text) if scan is None else scan.speech_starts
        # Pattern cues ("help the KMT win") trigger and keep their lines as
        # phrase cues do, so the fast path tags as the full one.
        patterned = self._pattern_starts(text, spans, None if scan is None else scan.lowered)
        if not trigger and not patterned:
            return _Prepared(piece, False, speech_at=speech_at, scan=scan)
        if self._settings.model is not None:  # a trained model reads everything
            return _Prepared(piece, True, text, speech_at=speech_at)
        starts = self._index.cue_starts(text) if scan is None else scan.cue_starts
        if patterned:
            starts = sorted(starts + patterned)
        spacy_text, blanked = _blank_lines(text, piece.lines, piece.flags, starts)
        return _Prepared(piece, True, spacy_text, blanked, speech_at)

    def _pattern_starts(
        self, text: str, spans: Sequence[tuple[int, int]], lowered: str | None
    ) -> list[int]:
        """Starts of the pattern cues inside the statement ``spans``
        (``lowered`` is ``text.lower()``, if made)."""
        if self._weak_patterns is None:
            return []
        return [
            found
            for found, _ in self._weak_patterns.spans(text, lowered)
            if any(start <= found < end for start, end in spans)
        ]

    def _finish(self, item: _Prepared, doc: Doc | None, author: str | None = None) -> TagResult:
        """Entities, statements and boilerplate of a prepared piece, with offsets
        into the whole article."""
        text, boiler = item.piece.text, item.piece.boilerplate
        if doc is None:
            entities = self._index.entities(text, scan=item.scan)
            hits: list[Hit] = []
        else:
            offsets = entity_offsets(doc)
            if offsets is None:
                entities = [
                    self._entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents
                ]
            else:  # the same spans, read as offsets (see monitor.nlp.pipeline)
                entities = [self._entity(text[s:e], label, s, e) for label, s, e in offsets]
            if item.blanked and self._index.entities_in_lines:
                for start, end in item.blanked:  # the same as the next branch, line by line
                    entities += self._index.entities(text, start, end)
                entities.sort(key=lambda e: e.start)
            elif item.blanked:
                starts = [start for start, _ in item.blanked]
                entities += [
                    e for e in self._index.entities(text) if _in_line(item.blanked, starts, e.start)
                ]
                entities.sort(key=lambda e: e.start)
            hits = cue_hits(doc)
            if self._weak_patterns is not None:
                hits += _pattern_hits(self._weak_patterns, text, item.blanked)
        if boiler:
            entities = [e for e in entities if not _overlaps(boiler, e.start, e.end)]
            hits = [h for h in hits if not _overlaps(boiler, h.start, h.end)]
        window = self._lexicon.cues.election.block_window
        headline_end = text.find("\n") if item.piece.start == 0 else 0
        blocked = non_political_article(hits, window, max(headline_end, 0))
        context = Context(
            self._speech,
            not blocked and has_election_context(hits, window),
            window,
            self._speech_words.starts(text) if item.speech_at is None else item.speech_at,
            self._scope,
            blocked,
            self._lexicon.cues.foreign_interference.topic_shifts,
            self._framing,
            self._references,
            self._election_references,
            author,
        )
        statements = build_statements(text, item.piece.spans, entities, hits, context)
        if self._speaker_form is not None:
            form = self._speaker_form
            statements = [
                s if s.speaker is None else replace(s, speaker=form(s.speaker)) for s in statements
            ]
        return shifted(
            TagResult(
                statements=tuple(statements),
                entities=tuple(Span(e.text, e.start, e.end, e.label) for e in entities),
                boilerplate=tuple(Span(text[s:e], s, e, "BOILERPLATE") for s, e in boiler),
                language=self.language,
            ),
            item.piece.start,
        )

    def _entity(self, text: str, label: str, start: int, end: int) -> EntityHit:
        term = self._index.term(text)
        country = term.country if term is not None else None
        return EntityHit(text, label, start, end, country)


def _blank_lines(
    text: str, lines: list[Line], boilerplate: list[bool], cue_starts: list[int]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``text`` with every boilerplate line, and every line that holds no cue,
    replaced by spaces; and the lines blanked."""
    parts: list[str] = []
    blanked: list[tuple[int, int]] = []
    position = 0
    for line, is_boilerplate in zip(lines, boilerplate, strict=True):
        first = bisect_left(cue_starts, line.start)
        has_cue = first < len(cue_starts) and cue_starts[first] < line.end
        if line.start == line.end or (has_cue and not is_boilerplate):
            continue
        parts.append(text[position : line.start])
        parts.append(" " * (line.end - line.start))
        blanked.append((line.start, line.end))
        position = line.end
    parts.append(text[position:])
    return "".join(parts), tuple(blanked)


def _back_references(cues: BackReferences) -> re.Pattern[str]:
    return back_reference(
        cues.references, cues.reference_pronouns, cues.bare_references, cues.reference_determiners
    )


def _pattern_hits(
    patterns: CuePatterns, text: str, blanked: tuple[tuple[int, int], ...]
) -> list[Hit]:
    """Weak interference hits of the cue ``patterns`` outside the ``blanked`` lines."""
    return [
        Hit(INTERFERENCE_WEAK, start, end)
        for start, end in patterns.spans(text)
        if not _overlaps(list(blanked), start, end)
    ]


def _in_line(lines: tuple[tuple[int, int], ...], starts: list[int], position: int) -> bool:
    """Whether ``position`` lies in one of ``lines`` (sorted; ``starts`` their starts)."""
    index = bisect_right(starts, position) - 1
    return index >= 0 and position < lines[index][1]


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)
