"""Term tables built from the lexicon, and an Aho-Corasick index over them.

The index is the cheap path: one pass over the lowercased text tells whether
an article has any candidate cue at all (the prefilter) and finds the
gazetteer entities for articles that skip the spaCy pipeline. Matches honour
word boundaries, like spaCy's phrase matching on tokens.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple

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


def _bounded(text: str, start: int, end: int, lo: int = 0, hi: int | None = None) -> bool:
    """Whether ``text[start:end]`` stands as whole words within ``text[lo:hi]``
    (its edges count as boundaries): a term's edge that is a word character
    needs a non-word character beside it; one that is not ("%" of "% of the
    vote", after "41") needs none, as spaCy's tokenizer splits "41%" into "41"
    and "%"."""
    hi = len(text) if hi is None else hi
    if _is_word(text[start]) and start > lo and _is_word(text[start - 1]):
        return False
    return not (_is_word(text[end - 1]) and end < hi and _is_word(text[end]))


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


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
    #: ``(start, end, phrase)`` of every occurrence of a gazetteer phrase
    #: (exact case, bounded or not), for :meth:`TermIndex.entities`; None when
    #: a trigger phrase occurs as a whole word (:meth:`TermIndex.entities`
    #: then makes its own pass, if asked) or this pass cannot tell (see
    #: :meth:`TermIndex.scan`).
    gazetteer: list[tuple[int, int, str]] | None = None


class _Roles(NamedTuple):
    """What a lowercase key of the one-pass automaton is (a tuple: unpacked per hit)."""

    length: int
    trigger: bool = False
    cue: bool = False
    said: bool = False
    appeal: bool = False
    #: Some gazetteer phrase lowercases to the key.
    entity: bool = False


def _lowercase_keys(
    terms: Terms, speech_words: frozenset[str], appeals: PhraseSet
) -> dict[str, _Roles]:
    """The keys of the one-pass automaton, each with every role it plays."""
    keys: dict[str, _Roles] = {}
    for phrase, kinds in terms.cues.items():
        trigger = bool(TRIGGER_KINDS.intersection(kinds))
        keys[phrase] = _Roles(len(phrase), trigger=trigger, cue=True)
    for word in speech_words:
        keys[word] = keys.get(word, _Roles(len(word)))._replace(said=True)
    for word in appeals.phrases if appeals.exact else ():
        keys[word] = keys.get(word, _Roles(len(word)))._replace(appeal=True)
    for phrase in terms.entities:
        key = phrase.lower()
        keys[key] = keys.get(key, _Roles(len(key)))._replace(entity=True)
    return keys


class TermIndex:
    """Aho-Corasick automata over the cue and entity phrases.

    :meth:`scan` does in one pass over the lowercased text what
    :meth:`has_trigger`, :meth:`cue_starts`, :meth:`entities` and a
    :class:`WordFinder` of ``speech_words`` do in four.
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
        self._lowered = ahocorasick.Automaton()
        for key, roles in _lowercase_keys(terms, speech_words, appeals).items():
            self._lowered.add_word(key, roles)
        if len(self._lowered):
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
        """Trigger occurrences, cue starts, speech-word starts and gazetteer
        phrase occurrences in ``text``, in one pass; None when lowercasing
        changes the length of ``text`` (then the single-purpose methods know
        what to do).

        Each letter of such a text lowercases to one letter, the same as on its
        own, bar a capital sigma (whose lowercase depends on its neighbours:
        ``gazetteer`` is None for a text holding one). So where a gazetteer
        phrase occurs, the lowercased text holds the lowercased phrase: each
        occurrence of one is a candidate, kept when the text there is a phrase.
        """
        lowered = text.lower()
        if len(lowered) != len(text):
            return None
        triggers: list[tuple[int, int]] = []
        cues: list[int] = []
        speech: list[int] = []
        appeals: list[tuple[int, int]] | None = (
            [] if self._appeals and folds_safely(text, lowered) else None
        )
        found: list[tuple[int, int, str]] | None = [] if "Σ" not in text else None
        phrases = self._terms.entities
        if len(self._lowered):
            for end, (length, trigger, cue, said, appeal, entity) in self._lowered.iter(lowered):
                start = end - length + 1
                if trigger:
                    triggers.append((start, end + 1))
                if (cue or said) and _bounded(lowered, start, end + 1):
                    if cue:
                        cues.append(start)
                    if said:
                        speech.append(start)
                    if trigger:
                        # spaCy most likely reads this text and finds the
                        # entities itself: collecting them would be wasted.
                        found = None
                if appeal and appeals is not None and bounded(text, start, end + 1):
                    appeals.append((start, end + 1))
                if entity and found is not None and (phrase := text[start : end + 1]) in phrases:
                    found.append((start, end + 1, phrase))
        cues.sort()
        speech.sort()
        if appeals:
            appeals.sort()
        return LowerScan(lowered, triggers, cues, speech, appeals, found)

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
            if _bounded(lowered, start, end, first, last):
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

    def entities(
        self, text: str, start: int = 0, end: int | None = None, scan: LowerScan | None = None
    ) -> list[EntityHit]:
        """Longest non-overlapping gazetteer phrases, leftmost first; only those
        inside ``text[start:end]`` when given (offsets stay the text's).

        ``scan``, a :meth:`scan` of ``text``, spares the pass over the text
        when it holds the phrases' occurrences (``gazetteer``)."""
        stop = len(text) if end is None else end
        if scan is not None and scan.gazetteer is not None:
            found = [f for f in scan.gazetteer if start <= f[0] and f[1] <= stop]
        elif len(self._entities):
            found = [
                (last - len(phrase) + 1, last + 1, phrase)
                for last, phrase in self._entities.iter(text, start, stop)
            ]
        else:
            return []
        return self._longest_leftmost(text, found)

    def _longest_leftmost(self, text: str, found: list[tuple[int, int, str]]) -> list[EntityHit]:
        """The hits :meth:`entities` chooses among the ``(start, end, phrase)``
        occurrences of gazetteer phrases in ``text``: those on word boundaries,
        the longest at the leftmost start first, then none that overlaps."""
        whole = [f for f in found if _bounded(text, f[0], f[1])]
        whole.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        hits: list[EntityHit] = []
        last_end = -1
        for start, end, phrase in whole:
            if start >= last_end:
                term = self._terms.entities[phrase]
                hits.append(EntityHit(phrase, term.label, start, end, term.country))
                last_end = end
        return hits
