"""Who said it, across an article: :class:`SpeakerMemory` resolves what
:func:`~monitor.nlp.speakers.find_attribution` finds in one sentence — a
surname to the full name first written for it, "he said" to the last person
speaking (or the titled subject of the last sentence naming one), and
definite descriptions ("the minister", "the court", "the company") to the
name written with them earlier.

Pure: a function of the article text, the entities and the attributions,
in document order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from monitor.nlp.gender import PRONOUN_GENDER, GenderWords
from monitor.nlp.names import PAIR_ROLE, Attribution
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.terms import EntityHit
from monitor.nlp.words import is_possessive


@dataclass(slots=True)
class SpeakerMemory:
    """What earlier statements said about people, for resolving later ones."""

    #: The speech vocabulary: titles, company nouns, words that are no names.
    rules: SpeechRules
    full_names: list[str] = field(default_factory=list)
    last_speaker: str | None = None
    last_person: str | None = None
    last_person_mentioned: str | None = None
    #: The speakers that were no person, in order ("Vantor", "Czech foreign
    #: ministry"), for "the company said", "the ministry added".
    organisations: list[str] = field(default_factory=list)
    #: Gender words; None: "he" and "she" resolve without them.
    gender_words: GenderWords | None = None
    #: What the text told of each person's gender ("Ms.", a "she" resolved to them).
    genders: dict[str, str] = field(default_factory=dict)
    #: Sentences since the last person the gazetteer knew, not yet read for names.
    _unread: list[str] = field(default_factory=list)

    def learn_names(self, entities: Sequence[EntityHit]) -> None:
        for entity in entities:
            if entity.label == "PERSON" and " " in entity.text:
                self._learn(entity.text)

    def mentioned(self, entities: Sequence[EntityHit], sentence: str = "") -> None:
        """Remember the last person named, for a "he said" with no speaker
        before it: a person the gazetteer knows, else a two- or three-word
        name written inside ``sentence`` ("… accused Viktor Yanukovich of …")."""
        people = [e.text for e in entities if e.label == "PERSON"]
        if people:
            self.last_person_mentioned = self.expand(people[-1])
            self._unread.clear()
        elif sentence:
            # Read for names only when a "he" or "she" needs them (most never do).
            self._unread.append(sentence)
        if self.last_speaker is not None and sentence.startswith("The "):
            self._named_description(sentence, self.last_speaker)

    def _named_description(self, sentence: str, speaker: str) -> None:
        """ "The group, the non-profit German Marshall Fund, studies …" after
        "An independent group says …": the description speaking last has a name
        now, for the "it said" after it."""
        match = _APPOSED_NAME.match(sentence)
        if match is not None and speaker.lower().endswith(f" {match.group(1)}"):
            self.last_speaker = match.group(2)
            self.organisations.append(match.group(2))

    def _mentioned_person(self) -> str | None:
        """The last person named, reading the sentences not read yet, latest first."""
        while self._unread:
            names = self._names_in(self._unread.pop())
            if names:
                self.last_person_mentioned = self.expand(names[-1])
                self._unread.clear()
        return self.last_person_mentioned

    def _names_in(self, sentence: str, titled: bool = False) -> list[str]:
        """Two- or three-word capitalised names past a sentence's first word
        that hold no title, institution, state or other word that is no name;
        with ``titled``, also a title and a name ("Президент Трамп" → Трамп)."""
        rules = self.rules
        found = []
        if titled:
            for match in _TITLED_RUN.finditer(sentence):
                title, name = match.group(1), match.group(2)
                if title.lower() in rules.titles and name.lower() not in rules.not_names:
                    found.append(name)
        for match in _NAME_RUN.finditer(sentence):
            if match.start() == 0 and not _LOWER_AFTER.match(sentence, match.end()):
                continue  # a capitalised opening is a name only before a lowercase verb
            words = match.group().split()
            keys = [w.lower().rstrip(".") for w in words]
            if any(
                k in rules.not_names
                or k in rules.titles
                or k in rules.institutions
                or k in rules.states
                or k in rules.generic
                for k in keys
            ):
                continue
            found.append(match.group())
        return found

    def _learn(self, name: str) -> None:
        if name not in self.full_names:
            self.full_names.append(name)

    def expand(self, name: str) -> str:
        """The first full name written that ends (or, surname first, starts) with ``name``."""
        if " " in name:
            return name
        for full in self.full_names:
            if full.split()[-1] == name:
                return full
        for full in self.full_names:
            if full.split()[0] == name:
                return full
        return name

    def written_before(self, name: str, earlier: str) -> str:
        """The fuller form of a one-word ``name`` first written in ``earlier`` text
        ("Marco Bellini" for "Bellini"), without titles; ``name`` when there is none."""
        if " " in name or not earlier:
            return name
        first = earlier.find(name)
        if first < 0:
            return name
        match = _written_before(name).search(earlier, _chunks_back(earlier, first, 4))
        if match is None:
            return name
        words = match.group(1).split()
        rules = self.rules
        while words and (
            words[0].lower().rstrip(".") in rules.titles
            or words[0].lower() in rules.not_names
            or words[0].lower() in rules.generic
            or is_possessive(words[0])
        ):
            words = words[1:]
        if any(w.lower().rstrip(".") in rules.titles for w in words):
            return name
        return " ".join([*words, name]) if words else name

    def resolve(
        self, found: Attribution, entities: Sequence[EntityHit], base: int, earlier: str = ""
    ) -> str | None:
        """The speaker ``found`` names, given the entities of its sentence
        (``base`` is the sentence's offset) and the text before the attribution
        (``earlier``, which ends where the sentence's attribution starts)."""
        if found.role == PAIR_ROLE:
            # "The two leaders": the last two people named, as written in order.
            return self._pair(earlier) or found.name.rstrip(".")
        if found.role is not None:
            name = self._described(found, earlier)
            if name is None and found.person and found.role is not None:
                name = self._compatible_person(found.role, earlier)
            if name is None:
                # A description naming nobody before is the speaker as written
                # (LABELING.md: "written as in the text").
                return found.name.rstrip(".")
            found = Attribution(name, found.start, found.end, person=found.person)
        if found.pronoun is not None:
            if found.pronoun in PRONOUN_GENDER:
                return self._person_for(PRONOUN_GENDER[found.pronoun], earlier)
            return self.last_speaker
        name = self.expand(found.name)
        label = _label_at(entities, base + found.start, base + found.end)
        told = self.gender_words.title_gender(earlier) if self.gender_words else None
        person = (
            found.person
            or told is not None
            or label == "PERSON"
            or name != found.name
            # Two to four unknown words are a person's name, unless written
            # after "the" ("according to The Associated Press").
            or (
                label is None
                and 2 <= len(name.split()) <= 4
                and not _after_the(earlier)
                and self._capitalised(name)
            )
        )
        if person and " " in name:
            self._learn(name)
        if told is not None:
            self.genders[name] = told
        self.last_speaker = name
        if person:
            self.last_person = name
        else:
            self.organisations.append(name)
        return name

    def _pair(self, earlier: str) -> str | None:
        """ "A and B": of the full names learned so far, the two written last
        in ``earlier`` (within :data:`_PAIR_REACH`), in the order the text
        below its first line (a title) first names them; None with fewer."""
        window = earlier[-_PAIR_REACH:]
        named = [(window.rfind(name), name) for name in self.full_names]
        latest = sorted((at, name) for at, name in named if at >= 0)[-2:]
        if len(latest) < 2:
            return None
        body = window.find("\n") + 1 if len(window) == len(earlier) else 0
        first = sorted(latest, key=lambda item: _first_at(window, item[1], body))
        return " and ".join(name for _, name in first)

    def _compatible_person(self, role: str, earlier: str) -> str | None:
        """For a description no name was written with ("the Russian leader",
        "The President", "Its founder"): the last person speaking or named, when
        the text gave them no other title ("the governor" is not the foreign
        minister Sergei Lavrov) — a generic role fits any title."""
        person = self.last_person or self._mentioned_person()
        if person is None:
            return None
        if role in _GENERIC_ROLES:
            return person
        at = earlier.find(person)
        before = earlier[max(0, at - 40) : at].split() if at >= 0 else []
        titles = [w.lower().rstrip(".,") for w in before[-3:]]
        known = [t for t in titles if t in self.rules.titles]
        return person if not known or role in known else None

    def _person_for(self, gender: str, earlier: str) -> str | None:
        """The person a "he" or "she" stands for: a name introduced with a word
        of that gender (or "named") after the last person spoke, else the last
        person speaking, or named, whose gender the text did not contradict."""
        candidates: tuple[Callable[[], str | None], ...] = (
            # Lazily: the later ones cost a search of the text before.
            lambda: self._named_in_sentence(earlier),
            lambda: self.last_person,
            self._mentioned_person,
            lambda: self._titled_mention(earlier),
            lambda: self.last_speaker,
        )
        chosen = None
        if self.gender_words is not None:
            window = max(0, len(earlier) - _GENDER_REACH)
            mention = self.gender_words.last_mention(earlier[window:], gender)
            if mention is not None and self._after_last_person(window + mention[0], earlier):
                chosen = self.expand(mention[1])
        if chosen is None:
            for candidate in candidates:
                name = candidate()
                if name and self.genders.get(name, gender) == gender:
                    chosen = name
                    break
        if chosen is not None and self.gender_words is not None:
            self.genders[chosen] = gender
            self.last_person = chosen
        return chosen

    def _named_in_sentence(self, earlier: str) -> str | None:
        """A person named earlier in the pronoun's own sentence ("President
        Trump chose me …, and he said"), titles dropped."""
        start = max(earlier.rfind(". "), earlier.rfind("\n"), earlier.rfind("? ")) + 1
        names = self._names_in(earlier[start:], titled=True)
        return self.expand(names[-1]) if names else None

    def _after_last_person(self, position: int, earlier: str) -> bool:
        """Whether ``position`` in ``earlier`` comes after the last time the last
        person speaking was named (by surname)."""
        if self.last_person is None:
            return True
        return position > earlier.rfind(self.last_person.split()[-1])

    def _capitalised(self, name: str) -> bool:
        """Whether every word of ``name`` is capitalised or a connector ("Ana
        de Souza"): "opposition parties" and "state television" are no persons."""
        return all(w[:1].isupper() or w in self.rules.connectors for w in name.split())

    def _described(self, found: Attribution, earlier: str) -> str | None:
        """The name a definite description ("the minister", "the court", "the
        company") stands for, if the text before it names one."""
        assert found.role is not None
        if found.person:
            return _titled_before(found.role, earlier)
        name = _institution_named(found.role, earlier)
        if name is not None:
            return name
        # A speaker named by the noun before ("Czech foreign ministry said …
        # the ministry added"); for a company, the last speaker that was no person.
        for organisation in reversed(self.organisations):
            if organisation.lower().rsplit(None, 1)[-1] == found.role:
                return organisation
        if self.organisations and found.role in self.rules.companies:
            return self.organisations[-1]
        return None

    def _titled_mention(self, earlier: str) -> str | None:
        """For a "she said" that follows no person speaker: the first name
        written after a title in the last sentence that has one, the sentence's
        subject as a rule ("State Representative Elena Marquez defeated
        congressman Walter Haines" → Elena Marquez)."""
        mentions = list(self.rules.titled_name.finditer(earlier))
        if not mentions:
            return None
        last = mentions[-1].start()
        sentence = max(earlier.rfind(". ", 0, last), earlier.rfind("\n", 0, last))
        first = next(m for m in mentions if m.start() > sentence)
        return self.expand(first.group(1))


#: "The group, the non-profit German Marshall Fund, …": a description's noun
#: (group 1) and the name in apposition after it (group 2).
_APPOSED_NAME = re.compile(
    r"The ([a-z]+), (?:the |a |an )?(?:[a-z][\w-]*\s+){0,2}"
    r"((?:[A-Z][\w’'.-]*\s+){0,4}[A-Z][\w’'.-]*),"
)

#: How far back "the two leaders" look for the two people named.
_PAIR_REACH = 1500


def _first_at(text: str, name: str, start: int) -> int:
    """Where ``name`` is first written in ``text`` from ``start`` on; a name
    written only before ``start`` (in the title) sorts after every name of
    the body, in the order the title gives."""
    at = text.find(name, start)
    return at if at >= 0 else len(text) + text.find(name)


#: How far back a "she" looks for a woman introduced ("his mother, Ruth").
_GENDER_REACH = 600

#: Descriptions that fit a person of any title ("the Russian leader" is
#: President Putin).
_GENERIC_ROLES = frozenset({"leader", "founder", "member", "politician", "head", "chief"})

#: Two or three capitalised words in a row, each with lowercase letters after
#: the first ("Viktor Yanukovich", not "NATO" or "U.S.").
_TITLED_RUN = re.compile(r"\b([A-ZА-ЯЁ][a-zа-яё-]+)\s+([A-ZА-ЯЁ][a-zа-яё-]+)\b")
_LOWER_AFTER = re.compile(r"\s+[a-z]")
_NAME_RUN = re.compile(r"(?<![\w’'-])[A-Z][a-z][\w’'-]*(?:\s+[A-Z][a-z][\w’'-]*){1,2}(?![\w’'-])")


@lru_cache(maxsize=1024)
def _written_before(name: str) -> re.Pattern[str]:
    """Up to three capitalised words right before ``name``."""
    return re.compile(rf"((?:[A-Z][\w'’.-]*\s+){{1,3}}){re.escape(name)}\b")


def _chunks_back(text: str, position: int, count: int) -> int:
    """An offset at or before the start of the ``count``-th whitespace-separated
    chunk before ``position`` (0 when there are not that many): a match of
    :func:`_written_before` that reaches ``position`` spans at most three
    whitespace runs before it, so it cannot start earlier (a search from here
    finds what a search from 0 finds)."""
    parts = text[:position].rsplit(None, count)
    return len(parts[0]) if len(parts) > count and text.startswith(parts[0]) else 0


#: Up to three capitalised words on one line.
_NAME = r"(?:[A-Z][\w’'-]+[^\S\n]+){0,2}[A-Z][\w’'-]+"


@lru_cache(maxsize=256)
def _titled(title: str) -> re.Pattern[str]:
    """A name written with ``title``: right after it ("Minister Sergei Lavrov",
    "the foreign minister, Sergei Lavrov,") or before it in an apposition
    ("Sergei Lavrov, Russia's foreign minister")."""
    word = rf"(?i:{re.escape(title)})"
    return re.compile(
        rf"\b{word}\.?,?\s+(?P<after>{_NAME})"
        rf"|(?P<before>{_NAME}),\s+(?:the\s+|an?\s+)?(?:[\w’'-]+\s+){{0,3}}?{word}\b"
    )


def _titled_before(title: str, earlier: str) -> str | None:
    """The name last written with ``title`` (see :func:`_titled`)."""
    match = _last_near(_titled(title), earlier, _word(title, fold=True))
    return None if match is None else match.group("after") or match.group("before")


#: How far from the word it is found by (a title, a noun) a name's match may reach.
_REACH = 160


@lru_cache(maxsize=512)
def _word(word: str, fold: bool = False) -> re.Pattern[str]:
    return re.compile(re.escape(word), re.IGNORECASE if fold else 0)


def _last_near(
    pattern: re.Pattern[str], text: str, needle: re.Pattern[str]
) -> re.Match[str] | None:
    """The last match of ``pattern`` in ``text`` that touches an occurrence of
    ``needle``, trying occurrences from the last one back. The pattern runs
    over a short window around each, never over the whole text: a definite
    description late in a long article stays cheap."""
    for occurrence in reversed(list(needle.finditer(text))):
        at, end = occurrence.span()
        last = None
        for match in pattern.finditer(text, max(0, at - _REACH), min(len(text), end + _REACH)):
            if match.start() <= end + 1 and at <= match.end():  # +1: "pollster IBRiS"
                last = match
        if last is not None:
            return last
    return None


#: After an institution noun: its "of" part ("… Commission of Zambia").
_OF_PART = re.compile(
    r"[^\S\n]+(?:of|for)[^\S\n]+(?:the[^\S\n]+)?[A-Z][\w’'-]*(?:[^\S\n]+[A-Z][\w’'-]*)*"
    # and the names it lists: "… Union of Rail, Maritime and Transport Workers"
    r"(?:,[^\S\n]+[A-Z][\w’'-]*(?:[^\S\n]+[A-Z][\w’'-]*)*)*"
    r"(?:,?[^\S\n]+and[^\S\n]+[A-Z][\w’'-]*(?:[^\S\n]+[A-Z][\w’'-]*)*)?"
)
#: After a lowercase institution noun: the name it introduces ("pollster IBRiS").
#: A name right after the noun ("pollster IBRiS"), or in an apposition after
#: it ("a local newspaper, the Hull Daily Mail"; "the group, the non-profit
#: German Marshall Fund").
_NAME_AFTER = re.compile(
    r"(?:,[^\S\n]+the[^\S\n]+(?:(?!(?:that|which|who|whose)\b)[a-z][\w-]*[^\S\n]+){0,2}|[^\S\n])"
    r"((?:[A-Z][\w’'-]*[^\S\n]+){0,3}[A-Z][\w’'-]*)\b"
)


@lru_cache(maxsize=256)
def _noun(noun: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(noun)}\b", re.IGNORECASE)


def _institution_named(noun: str, earlier: str) -> str | None:
    """The institution last written with ``noun``, for "the court said": a
    name holding the noun capitalised, with the capitalised words before it
    (its owner too) and its "of" part ("Romania's Constitutional Court",
    "Electoral Commission of Zambia"), or a name right after the noun in
    lowercase ("pollster IBRiS"). Walks words from each occurrence of the noun,
    the last first, so a long article costs one scan for the noun."""
    if noun.capitalize() not in earlier and noun not in earlier:  # the common case
        return None
    for occurrence in reversed(list(_noun(noun).finditer(earlier))):
        at, end = occurrence.span()
        if earlier[at].isupper():
            tail = _OF_PART.match(earlier, end)
            name = earlier[_capitals_before(earlier, at) : tail.end() if tail else end]
            return name.removeprefix("The ")
        after = _NAME_AFTER.match(earlier, end)
        if after is not None:
            return after.group(1)
    return None


def _capitals_before(text: str, at: int, most: int = 5) -> int:
    """Where the run of up to ``most`` capitalised words right before ``at``
    (on its line, separated by spaces) starts; ``at`` when there is none."""
    start = at
    for _ in range(most):
        if start < 2 or text[start - 1] != " ":
            break
        previous = text.rfind(" ", 0, start - 1) + 1
        previous = max(previous, text.rfind("\n", 0, start - 1) + 1)
        if not text[previous : start - 1][:1].isupper():
            break
        start = previous
    return start


def _after_the(earlier: str) -> bool:
    """Whether ``earlier`` ends in "the " (the name after it is an institution's)."""
    return earlier[-4:].lower() == "the "


def _label_at(entities: Sequence[EntityHit], start: int, end: int) -> str | None:
    for entity in entities:
        if entity.start <= start and end <= entity.end:
            return entity.label
        if start <= entity.start and entity.end <= end:
            return entity.label
    return None
