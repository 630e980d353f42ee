"""Term tables built from the lexicon, and an Aho-Corasick index over them.

The index is the cheap path: one pass over the lowercased text tells whether
an article has any candidate cue at all (the prefilter), and one pass over the
original text finds gazetteer entities for articles that skip the spaCy
pipeline. Both honour word boundaries, like spaCy's phrase matching on tokens.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import ahocorasick

from monitor.nlp.lexicon import Lexicon
from monitor.nlp.phrases import PhraseSet, bounded, folds_safely
from monitor.nlp.rules import (
    ELECTION,
    ELECTION_BLOCK,
    ELECTION_WEAK,
    FOREIGN_MARKER,
    INTERFERENCE,
    INTERFERENCE_BLOCK,
    INTERFERENCE_CONTEXT,
    INTERFERENCE_TOPICAL,
    INTERFERENCE_WEAK,
)

#: Cue kinds that can, on their own or with context, produce a tag.
TRIGGER_KINDS = frozenset({ELECTION, INTERFERENCE, INTERFERENCE_WEAK})


@dataclass(frozen=True, slots=True)
class EntityTerm:
    label: str
    country: str | None


@dataclass(frozen=True, slots=True)
class EntityHit:
    """A gazetteer entity found in the text (offsets into the document)."""

    text: str
    label: str
    start: int
    end: int
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Terms:
    """Every phrase the tagger looks for."""

    #: Exact-case phrase → label and country.
    entities: dict[str, EntityTerm]
    #: Lowercase phrase → cue kinds.
    cues: dict[str, tuple[str, ...]]

    @classmethod
    def from_lexicon(cls, lexicon: Lexicon) -> Terms:
        return cls(entities=_entity_terms(lexicon), cues=_cue_terms(lexicon))


def _entity_terms(lexicon: Lexicon) -> dict[str, EntityTerm]:
    table: dict[str, EntityTerm] = {}

    def put(phrase: str, label: str, country: str | None) -> None:
        table.setdefault(phrase, EntityTerm(label, country))

    gazetteer = lexicon.gazetteer
    for person in gazetteer.people:
        for phrase in (person.name, *person.aliases):
            put(phrase, "PERSON", person.country)
    for country in gazetteer.countries:
        for phrase in (country.name, *country.aliases, *country.places):
            put(phrase, "GPE", country.name)
        for phrase in country.demonyms:
            put(phrase, "NORP", country.name)
        for phrase in country.seats:
            put(phrase, "ORG", country.name)
    for org in gazetteer.organisations:
        for phrase in (org.name, *org.aliases):
            put(phrase, "ORG", org.country)
    for region in gazetteer.regions:
        put(region, "LOC", None)
    return table


def _cue_terms(lexicon: Lexicon) -> dict[str, tuple[str, ...]]:
    election = lexicon.cues.election
    interference = lexicon.cues.foreign_interference
    groups = {
        ELECTION: election.strong,
        ELECTION_WEAK: election.weak,
        ELECTION_BLOCK: election.block,
        INTERFERENCE: interference.strong,
        INTERFERENCE_WEAK: interference.weak,
        FOREIGN_MARKER: interference.foreign_markers,
        INTERFERENCE_BLOCK: interference.block,
        INTERFERENCE_CONTEXT: interference.context,
        INTERFERENCE_TOPICAL: interference.topical,
    }
    table: dict[str, tuple[str, ...]] = {}
    for kind, phrases in groups.items():
        for phrase in phrases:
            key = phrase.lower()
            if kind not in table.get(key, ()):
                table[key] = (*table.get(key, ()), kind)
    return table


#: Every character ``str.splitlines`` breaks lines at.
_LINE_BREAK_CHARS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


class WordFinder:
    """Where any of some lowercase words occurs as a whole word (Aho-Corasick)."""

    def __init__(self, words: frozenset[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for word in words:
            self._automaton.add_word(word, len(word))
        if len(self._automaton):
            self._automaton.make_automaton()

    def starts(self, text: str) -> list[int]:
        """Sorted start offsets of the whole-word occurrences in ``text``."""
        if not len(self._automaton):
            return []
        lowered = text.lower()
        if len(lowered) != len(text):
            return list(range(len(text)))  # case folding moved offsets: check everything
        found = []
        for end, length in self._automaton.iter(lowered):
            start = end - length + 1
            if _bounded(lowered, start, end + 1):
                found.append(start)
        return sorted(found)


@dataclass(frozen=True, slots=True)
class LowerScan:
    """What one pass over the lowercased text found (offsets into the text)."""

    #: ``text.lower()``, the same length as the text.
    lowered: str
    #: ``(start, end)`` of every occurrence of a trigger phrase, bounded or not.
    triggers: list[tuple[int, int]]
    #: What :meth:`TermIndex.cue_starts` returns.
    cue_starts: list[int]
    #: What :meth:`WordFinder.starts` returns for the speech words.
    speech_starts: list[int]
    #: ``(start, end)`` of the ``appeal_words`` as whole words, ignoring case,
    #: exactly where ``re``'s ``(?i)\b…\b`` finds them (sorted); None when
    #: that cannot be told this way (see :mod:`monitor.nlp.phrases`).
    appeals: list[tuple[int, int]] | None = None


class TermIndex:
    """Aho-Corasick automata over the cue and entity phrases.

    :meth:`scan` does in one pass over the lowercased text what
    :meth:`has_trigger`, :meth:`cue_starts` and a :class:`WordFinder` of
    ``speech_words`` do in three.
    """

    def __init__(
        self,
        terms: Terms,
        speech_words: frozenset[str] = frozenset(),
        appeal_words: tuple[str, ...] = (),
    ) -> None:
        self._terms = terms
        appeals = PhraseSet(appeal_words)
        self._appeals = appeals.exact
        # key -> (length, is a trigger, is a cue, is a speech word, is an appeal word)
        roles: dict[str, tuple[int, bool, bool, bool, bool]] = {}
        for phrase, kinds in terms.cues.items():
            roles[phrase] = (
                len(phrase),
                bool(TRIGGER_KINDS.intersection(kinds)),
                True,
                False,
                False,
            )
        for word in speech_words:
            _, trigger, cue, _, _ = roles.get(word, (0, False, False, False, False))
            roles[word] = (len(word), trigger, cue, True, False)
        for word in appeals.phrases if appeals.exact else ():
            _, trigger, cue, said, _ = roles.get(word, (0, False, False, False, False))
            roles[word] = (len(word), trigger, cue, said, True)
        self._lowered = ahocorasick.Automaton()
        for key, value in roles.items():
            self._lowered.add_word(key, value)
        if roles:
            self._lowered.make_automaton()
        self._triggers = ahocorasick.Automaton()
        for phrase, kinds in terms.cues.items():
            if TRIGGER_KINDS.intersection(kinds):
                self._triggers.add_word(phrase, len(phrase))
        self._cues = ahocorasick.Automaton()
        for phrase in terms.cues:
            self._cues.add_word(phrase, len(phrase))
        self._entities = ahocorasick.Automaton()
        for phrase in terms.entities:
            self._entities.add_word(phrase, phrase)
        for automaton in (self._triggers, self._cues, self._entities):
            if len(automaton):
                automaton.make_automaton()
        #: No gazetteer phrase spans a line break, so the phrases of one line
        #: are found in that line alone.
        self.entities_in_lines = not any(
            c in phrase for phrase in terms.entities for c in _LINE_BREAK_CHARS
        )
        self._newline_trigger = any(
            "\n" in phrase
            for phrase, kinds in terms.cues.items()
            if TRIGGER_KINDS.intersection(kinds)
        )

    def scan(self, text: str) -> LowerScan | None:
        """Trigger occurrences, cue starts and speech-word starts in ``text``, in
        one pass; None when lowercasing changes the length of ``text`` (then the
        three single-purpose methods know what to do)."""
        lowered = text.lower()
        if len(lowered) != len(text):
            return None
        triggers: list[tuple[int, int]] = []
        cues: list[int] = []
        speech: list[int] = []
        appeals: list[tuple[int, int]] | None = (
            [] if self._appeals and folds_safely(text, lowered) else None
        )
        if len(self._lowered):
            for end, (length, trigger, cue, said, appeal) in self._lowered.iter(lowered):
                start = end - length + 1
                if trigger:
                    triggers.append((start, end + 1))
                if (cue or said) and _bounded(lowered, start, end + 1):
                    if cue:
                        cues.append(start)
                    if said:
                        speech.append(start)
                if appeal and appeals is not None and bounded(text, start, end + 1):
                    appeals.append((start, end + 1))
        cues.sort()
        speech.sort()
        if appeals:
            appeals.sort()
        return LowerScan(lowered, triggers, cues, speech, appeals)

    def has_trigger_in(
        self, text: str, spans: list[tuple[int, int]], scan: LowerScan
    ) -> bool | None:
        """What ``has_trigger("\\n".join(text[s:e] for s, e in spans))`` answers,
        from ``scan`` of ``text`` (``spans`` sorted and disjoint); None when that
        cannot be told without the joined text.

        A trigger of the joined text lies inside one span (no trigger phrase
        holds a line break) and is bounded there as in ``text``, except that
        a span's edge counts as a boundary; a capital sigma is the one letter
        whose lowercase depends on its neighbours, so text holding one is left
        to :meth:`has_trigger`.
        """
        if self._newline_trigger or "Σ" in text:
            return None
        lowered = scan.lowered
        starts = [start for start, _ in spans]
        for start, end in scan.triggers:
            index = bisect_right(starts, start) - 1
            if index < 0 or end > spans[index][1]:
                continue
            first, last = spans[index]
            before = lowered[start - 1] if start > first else " "
            after = lowered[end] if end < last else " "
            if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
                return True
        return False

    def term(self, phrase: str) -> EntityTerm | None:
        """The gazetteer entry for ``phrase``, if it is one."""
        return self._terms.entities.get(phrase)

    def has_trigger(self, text: str) -> bool:
        """True when ``text`` holds a cue that could produce a tag."""
        if not len(self._triggers):
            return False
        lowered = text.lower()
        if len(lowered) != len(text):  # rare case-folding changes; be safe
            return True
        for end, length in self._triggers.iter(lowered):
            if _bounded(lowered, end - length + 1, end + 1):
                return True
        return False

    def cue_starts(self, text: str) -> list[int]:
        """Start offsets of every cue phrase (of any kind) in ``text``, sorted."""
        if not len(self._cues):
            return []
        lowered = text.lower()
        if len(lowered) != len(text):
            return list(range(len(text)))  # case folding moved offsets: everything is a candidate
        starts = []
        for end, length in self._cues.iter(lowered):
            start = end - length + 1
            if _bounded(lowered, start, end + 1):
                starts.append(start)
        return sorted(starts)

    def entities(self, text: str, start: int = 0, end: int | None = None) -> list[EntityHit]:
        """Longest non-overlapping gazetteer phrases, leftmost first; only those
        inside ``text[start:end]`` when given (offsets stay the text's)."""
        if not len(self._entities):
            return []
        found = []
        stop = len(text) if end is None else end
        for end, phrase in self._entities.iter(text, start, stop):
            start = end - len(phrase) + 1
            if _bounded(text, start, end + 1):
                found.append((start, end + 1, phrase))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        hits: list[EntityHit] = []
        last_end = -1
        for start, end, phrase in found:
            if start >= last_end:
                term = self._terms.entities[phrase]
                hits.append(EntityHit(phrase, term.label, start, end, term.country))
                last_end = end
        return hits
