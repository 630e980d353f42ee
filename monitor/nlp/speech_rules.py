"""The speech vocabulary of ``speech.yaml`` as lookup sets, for the
attribution rules (:mod:`monitor.nlp.speakers`, :mod:`monitor.nlp.words`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from monitor.nlp.gender import GenderWords
from monitor.nlp.lexicon import Gazetteer, Speech


@dataclass(frozen=True, slots=True)
class SpeechRules:
    """:class:`Speech` vocabulary as lookup sets."""

    verbs: frozenset[str]
    fillers: frozenset[str]
    titles: frozenset[str]
    roles: frozenset[str]
    connectors: frozenset[str]
    pronouns: frozenset[str]
    not_names: frozenset[str]
    institutions: frozenset[str] = frozenset()
    companies: frozenset[str] = frozenset()
    #: Lowercase one-word speakers that name nobody (includes demonyms).
    generic: frozenset[str] = frozenset()
    passive: frozenset[str] = frozenset()
    #: (verb, next word) pairs that make the verb passive: ("accused", "of").
    passive_phrases: frozenset[tuple[str, str]] = frozenset()
    #: Prepositions naming a passive verb's agent ("by").
    agent_prepositions: frozenset[str] = frozenset()
    #: Participles whose agent after ``agent_prepositions`` made a statement.
    agent_participles: frozenset[str] = frozenset()
    #: "The two leaders": ``pair_words`` then ``pair_nouns``.
    pair_words: frozenset[str] = frozenset()
    pair_nouns: frozenset[str] = frozenset()
    place_prepositions: frozenset[str] = frozenset()
    member_prepositions: frozenset[str] = frozenset()
    object_verbs: frozenset[str] = frozenset()
    participles: frozenset[str] = frozenset()
    #: Lowercase one-word names of states, their capitals and seats of power.
    states: frozenset[str] = frozenset()
    object_pronouns: frozenset[str] = frozenset()
    #: The broad statement verbs of the subject rule (:mod:`monitor.nlp.subjects`).
    statement_verbs: frozenset[str] = frozenset()
    #: Words of a subject that make it a conduit (a reporter, the publishing medium).
    conduits: frozenset[str] = frozenset()
    #: Head nouns of data, no speaker after "according to" (``data_nouns``).
    data_nouns: frozenset[str] = frozenset()
    #: Words opening a clause that a subject never holds (``clause_words``).
    clause_words: frozenset[str] = frozenset()
    #: "according to" phrases as word keys: ("according", "to"), ("по", "словам").
    according: tuple[tuple[str, ...], ...] = (("according", "to"),)
    #: The first words of ``according``.
    according_first: frozenset[str] = frozenset({"according"})
    #: Verbs with no subject whose speaker is the last one ("говорится": it is said).
    impersonal: frozenset[str] = frozenset()
    #: Words opening a description of a person named before ("The President").
    describers: frozenset[str] = frozenset({"the", "its", "his", "her", "their", "this", "that"})
    #: Words of reported speech: what a third party said, inside a framed statement.
    reported: re.Pattern[str] = re.compile(r"(?!)")
    #: Phrases that hold their source as a pronoun ("по его словам" → "он").
    according_pronouns: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: Gender words, for resolving "he" and "she".
    gender: GenderWords | None = None
    #: Matches a sentence that may hold an attribution (a cheap first test).
    trigger: re.Pattern[str] = re.compile(r"(?!)")
    #: A title and the name after it ("State Representative Elena Marquez"):
    #: group 1 is the name.
    titled_name: re.Pattern[str] = re.compile(r"(?!)()")

    @classmethod
    def from_lexicon(cls, speech: Speech, gazetteer: Gazetteer | None = None) -> SpeechRules:
        """The rules for ``speech``; the gazetteer's demonyms are generic
        speakers and its one-word state names (countries, capitals, seats)
        are known ``states``."""

        def keys(words: tuple[str, ...]) -> frozenset[str]:
            return frozenset(w.lower().rstrip(".") for w in words if " " not in w)

        countries = gazetteer.countries if gazetteer is not None else ()
        demonyms = tuple(d for c in countries for d in c.demonyms)
        states = tuple(n for c in countries for n in (c.name, *c.aliases, *c.places, *c.seats))

        return cls(
            verbs=keys(speech.verbs),
            fillers=keys(speech.fillers),
            titles=keys(speech.titles),
            roles=keys(speech.roles),
            connectors=keys(speech.connectors),
            pronouns=keys(speech.person_pronouns) | keys(speech.group_pronouns),
            not_names=keys(speech.not_names) | keys(speech.verbs) | keys(speech.statement_verbs),
            institutions=keys(speech.institutions),
            companies=keys(speech.companies),
            generic=keys(speech.generic) | keys(demonyms),
            passive=keys(speech.passive),
            passive_phrases=frozenset(_pair(p) for p in speech.passive_phrases),
            agent_prepositions=keys(speech.agent_prepositions),
            agent_participles=keys(speech.agent_participles),
            pair_words=keys(speech.pair_words),
            pair_nouns=keys(speech.pair_nouns),
            place_prepositions=keys(speech.place_prepositions),
            member_prepositions=keys(speech.member_prepositions),
            object_verbs=keys(speech.object_verbs),
            participles=keys(speech.participles),
            states=keys(states),
            object_pronouns=keys(speech.object_pronouns),
            statement_verbs=keys(speech.statement_verbs),
            conduits=keys(speech.conduits),
            data_nouns=keys(speech.data_nouns),
            clause_words=keys(speech.clause_words),
            reported=_words_pattern(speech.reported_speech),
            describers=keys(speech.describers),
            impersonal=keys(speech.impersonal_verbs),
            according=tuple(_phrase(p) for p in speech.according),
            according_first=frozenset(_phrase(p)[0] for p in speech.according),
            according_pronouns={
                _phrase(p): p.partition("=")[2].strip() for p in speech.according if "=" in p
            },
            gender=GenderWords.from_words(speech.female_words, speech.male_words),
            trigger=_trigger(trigger_words(speech)),
            titled_name=_titled_name(keys(speech.titles)),
        )


def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """A case-insensitive whole-word pattern of ``words`` (longest first)."""
    if not words:
        return re.compile(r"(?!)")
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?i)\b(?:{alternatives})\b")


def _phrase(entry: str) -> tuple[str, ...]:
    """An ``according`` entry's words ("по его словам=он" → по, его, словам)."""
    return tuple(entry.partition("=")[0].lower().split())


def _pair(phrase: str) -> tuple[str, str]:
    first, second = phrase.lower().split()
    return first, second


def trigger_words(speech: Speech) -> frozenset[str]:
    """Words without which a sentence has no attribution."""
    return frozenset(
        w.lower().rstrip(".")
        for w in (
            *speech.verbs,
            *speech.statement_verbs,
            *speech.object_verbs,
            *speech.participles,
            *speech.agent_participles,
            *(_phrase(p)[0] for p in speech.according),
        )
    )


def _titled_name(titles: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True))
    name = r"[A-Z][\w’'-]+"
    return re.compile(rf"\b(?i:{alternatives})\.?[^\S\n]+((?:{name}[^\S\n]+){{0,2}}{name})")


def _trigger(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?i)\b(?:{alternatives})\b")
