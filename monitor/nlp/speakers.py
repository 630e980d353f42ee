"""Who is speaking in a sentence: attribution rules over words.

Pure functions. :func:`find_attribution` looks, outside quoted passages, for
a speech verb and the name next to it:

* "Peskov said", "The Kremlin on Tuesday said" (fillers skipped),
  "Kremlin spokesman Dmitry Peskov told reporters" (the name right before the verb),
* "Russian President Vladimir Putin said" (titles dropped),
* "Dmitry Peskov, the Kremlin spokesman, said" (apposition),
* "a Kremlin spokesman said" (institution before a role noun),
* "“…,” said Peskov" (inversion after a quote),
* "according to Peskov",
* "he said" (a pronoun; resolved by the caller to the last named speaker).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import NamedTuple

from monitor.nlp.lexicon import Gazetteer, Speech

# A word: word characters, apostrophes and hyphens, with inner full stops
# ("U.S"), and maybe a final one; or a punctuation mark that matters.
_WORD = re.compile(r"\w[\w'’-]*+(?:\.(?=\w)[\w'’-]*+)*+\.?|[“”\"‘’,:;()—–]")
# The same words, each with what lies between it and the previous one (the
# characters no word starts with), so that one ``findall`` gives the offsets.
# The quantifiers are possessive (``*+``: they never give characters back),
# which spares the regex engine its backtracking bookkeeping and changes no
# match: a gap holds no character a word can start with, and after a word's
# first character all is optional, so the first way of matching succeeds.
_GAP_AND_WORD = re.compile(rf"([^\w“”\"‘’,:;()—–]*+)({_WORD.pattern})")
_DETERMINERS = frozenset({"the", "a", "an"})
_QUOTE_MARKS = frozenset({"”", '"', "’", "“", "‘"})
#: What joins the names an institution's "of" part lists ("Health and Human Services").
_JOINERS = frozenset({"and", "&", ","})
_LAST_JOINERS = frozenset({"and", "&"})
_OF = frozenset({"of", "for"})


class Word(NamedTuple):
    """A word or punctuation mark of a sentence (a tuple: there are many)."""

    text: str
    start: int
    end: int
    #: Lowercase, without a trailing full stop: how vocabularies are looked up.
    key: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """A speaker found in a sentence; offsets index the sentence."""

    name: str
    start: int
    end: int
    #: Set when the speaker is a pronoun the caller must resolve.
    pronoun: str | None = None
    #: True when the words around the name say it is a person (a title, a pronoun).
    person: bool = False
    #: Set for a definite description ("the foreign minister said"): the title
    #: word, which the caller resolves to the person it was last written before.
    role: str | None = None


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
    #: Lowercase one-word speakers that name nobody (includes demonyms).
    generic: frozenset[str] = frozenset()
    passive: frozenset[str] = frozenset()
    place_prepositions: frozenset[str] = frozenset()
    member_prepositions: frozenset[str] = frozenset()
    object_verbs: frozenset[str] = frozenset()
    participles: frozenset[str] = frozenset()
    #: Lowercase one-word names of states, their capitals and seats of power.
    states: frozenset[str] = frozenset()
    object_pronouns: frozenset[str] = frozenset()
    #: Matches a sentence that may hold an attribution (a cheap first test).
    trigger: re.Pattern[str] = re.compile(r"(?!)")

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
            not_names=keys(speech.not_names) | keys(speech.verbs),
            institutions=keys(speech.institutions),
            generic=keys(speech.generic) | keys(demonyms),
            passive=keys(speech.passive),
            place_prepositions=keys(speech.place_prepositions),
            member_prepositions=keys(speech.member_prepositions),
            object_verbs=keys(speech.object_verbs),
            participles=keys(speech.participles),
            states=keys(states),
            object_pronouns=keys(speech.object_pronouns),
            trigger=_trigger(trigger_words(speech)),
        )


def trigger_words(speech: Speech) -> frozenset[str]:
    """Words without which a sentence has no attribution."""
    return frozenset(
        w.lower().rstrip(".")
        for w in (*speech.verbs, *speech.object_verbs, *speech.participles, "according")
    )


def _trigger(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?i)\b(?:{alternatives})\b")


def words_of(sentence: str) -> list[Word]:
    """The words and punctuation marks of a sentence."""
    new = tuple.__new__  # what ``Word(...)`` does, without the keyword handling
    words: list[Word] = []
    append = words.append
    end = 0
    for gap, text in _GAP_AND_WORD.findall(sentence):
        start = end + len(gap)
        end = start + len(text)
        append(new(Word, (text, start, end, text.lower().rstrip("."))))
    return words


def find_attribution(
    sentence: str, quotes: list[tuple[int, int]], rules: SpeechRules, *, prechecked: bool = False
) -> Attribution | None:
    """The first attribution outside quotes, or None.

    ``prechecked`` says the caller already knows the sentence holds a speech verb.
    """
    if not prechecked and not rules.trigger.search(sentence):
        return None
    words = words_of(sentence)
    if quotes:
        words = _outside(words, quotes)
    for index, word in enumerate(words):
        key = word.key
        if key == "according" and index + 2 < len(words) and words[index + 1].key == "to":
            found = _name_after(sentence, words, index + 2, rules)
        elif key in rules.verbs or (
            key in rules.object_verbs
            and index + 1 < len(words)
            and words[index + 1].key in rules.object_pronouns
        ):
            found = _speaker_of_verb(sentence, words, index, rules)
        elif key in rules.participles and index > 0 and words[index - 1].text == ",":
            found = _subject(sentence, words, rules)
        else:
            continue
        if found is not None:
            return found
    return None


def _subject(sentence: str, words: list[Word], rules: SpeechRules) -> Attribution | None:
    """The name a sentence opens with, when a lowercase word (its verb) follows
    it: "Azerbaijan summoned …", "Russian President Vladimir Putin signed …",
    "Bangladesh's main opposition party boycotted …"."""
    first = 1 if words and words[0].key in _DETERMINERS else 0
    if first >= len(words) or not _is_name(words[first], rules):
        return None
    last = _run_right(words, first, rules)
    if words[last].text.endswith(("’s", "'s")):  # the name is the owner, not the subject
        head = _institution_head(words, last, rules)
        while (
            head is not None and head + 1 < len(words) and words[head + 1].key in rules.institutions
        ):
            head += 1  # a compound head: "opposition party"
        if head is None or not _is_verb(words, head + 1):
            return None
        return _institution_phrase(sentence, words, head, rules)
    if not _is_verb(words, last + 1):
        return None
    if first == last and words[first].key not in rules.states:
        # A lone capitalised word opening a sentence is as often a common
        # noun ("Protests grew, …") as a name: trust only a known state.
        return None
    return _clean(sentence, words[first : last + 1], rules)


def _is_verb(words: list[Word], index: int) -> bool:
    """Whether ``words[index]`` may be the verb after a subject: a lowercase word."""
    return index < len(words) and words[index].text.isalpha() and words[index].text.islower()


def _outside(words: list[Word], spans: list[tuple[int, int]]) -> list[Word]:
    """The words that start in none of the spans (``start <= word start < end``).

    Words are in order of their starts, so each span drops one slice of them,
    found by bisection; spans may be in any order and may overlap.
    """
    starts = [word.start for word in words]
    kept: list[Word] = []
    done = 0  # words before this index are kept or dropped already
    for start, end in sorted(spans):
        first = bisect_left(starts, start, done)
        kept += words[done:first]  # before this span and the later ones
        # From ``done`` on, words start at or after the end of every span so far.
        done = bisect_left(starts, end, first)
    kept += words[done:]
    return kept


def _is_name(word: Word, rules: SpeechRules) -> bool:
    return word.text[0].isupper() and word.key not in rules.not_names


def _speaker_of_verb(
    sentence: str, words: list[Word], verb: int, rules: SpeechRules
) -> Attribution | None:
    left = verb - 1
    while left >= 0 and words[left].key in rules.fillers:
        left -= 1
    if left < 0:
        return _name_after(sentence, words, verb + 1, rules) if verb == 0 else None
    word = words[left]
    if word.key in rules.passive:
        return None
    if word.key in rules.pronouns and not word.text.isupper():
        return Attribution(word.text, word.start, word.end, pronoun=word.key)
    if _is_name(word, rules):
        return _placed(sentence, words, left, rules)
    if word.key in rules.roles:
        return _institution_before(sentence, words, left, rules)
    if word.key in rules.institutions:
        return _institution_phrase(sentence, words, left, rules) or _definite_role(
            sentence, words, left, rules
        )
    if word.key in rules.titles:
        return _definite_role(sentence, words, left, rules)
    if word.text == ",":
        if left > 0 and words[left - 1].text in _QUOTE_MARKS:
            return _name_after(sentence, words, verb + 1, rules)
        if left > 0 and _is_name(words[left - 1], rules):
            first = _run_left(words, left - 1, rules)
            if first > 0 and words[first - 1].text == ",":
                found = _name_before(sentence, words, left - 1, rules)
                return found if found is None else _as_person(found)
        return _apposition(sentence, words, left, rules)
    if word.text in _QUOTE_MARKS:
        return _name_after(sentence, words, verb + 1, rules)
    return None


def _run_left(words: list[Word], last: int, rules: SpeechRules) -> int:
    """Index of the first word of the name run ending at ``last``; an
    institution's name takes in the names its "of" part lists: "Ministry of
    Culture, Sports and Tourism" (a list ends in "and": "Lavrov and Peskov"
    stays two names, having no "of")."""
    first = _plain_run_left(words, last, rules)
    if first < 2 or words[first - 1].text not in _LAST_JOINERS:
        return first
    start = first
    while start >= 2 and words[start - 1].text in _JOINERS and _is_name(words[start - 2], rules):
        start = _plain_run_left(words, start - 2, rules)
        if _has_of(words, start, first):
            return start
    return first


def _plain_run_left(words: list[Word], last: int, rules: SpeechRules) -> int:
    first = last
    while first - 1 >= 0:
        prev = words[first - 1]
        if _is_name(prev, rules):
            first -= 1
        elif prev.key in rules.connectors and first - 2 >= 0 and _is_name(words[first - 2], rules):
            first -= 2
        else:
            break
    return first


def _run_right(words: list[Word], first: int, rules: SpeechRules) -> int:
    """Index of the last word of the name run starting at ``first``, with the
    names an institution's "of" part lists, up to the one after "and", as in
    :func:`_run_left`."""
    last = _plain_run_right(words, first, rules)
    if not _has_of(words, first, last):
        return last
    end = last
    while (
        end + 2 < len(words) and words[end + 1].text in _JOINERS and _is_name(words[end + 2], rules)
    ):
        joiner = words[end + 1].text
        end = _plain_run_right(words, end + 2, rules)
        if joiner in _LAST_JOINERS:
            last = end
    return last


def _plain_run_right(words: list[Word], first: int, rules: SpeechRules) -> int:
    last = first
    while last + 1 < len(words):
        nxt = words[last + 1]
        if _is_name(nxt, rules):
            last += 1
        elif (
            nxt.key in rules.connectors
            and last + 2 < len(words)
            and _is_name(words[last + 2], rules)
        ):
            last += 2
        else:
            break
    return last


def _has_of(words: list[Word], first: int, last: int) -> bool:
    """Whether the name run ``words[first:last + 1]`` holds an "of" or "for"."""
    return any(words[index].key in _OF for index in range(first, last + 1))


def _name_before(
    sentence: str, words: list[Word], last: int, rules: SpeechRules
) -> Attribution | None:
    return _clean(sentence, words[_run_left(words, last, rules) : last + 1], rules)


def _placed(sentence: str, words: list[Word], last: int, rules: SpeechRules) -> Attribution | None:
    """A name before the verb, unless it is only the place of the speaker:
    "the Chinese embassy in London said" → the embassy; "Officials in Berlin said" → nobody."""
    first = _run_left(words, last, rules)
    before = first - 1
    if before >= 0 and words[before].key in _DETERMINERS:
        before -= 1
    if before >= 1 and words[before].key in rules.place_prepositions:
        head = words[before - 1]
        if head.key in rules.institutions or head.key in rules.roles:
            return _institution_phrase(sentence, words, before - 1, rules)
        if head.key in rules.generic and words[before].key in rules.member_prepositions:
            return _name_before(sentence, words, last, rules)
        return None
    return _name_before(sentence, words, last, rules)


def _institution_phrase(
    sentence: str, words: list[Word], head: int, rules: SpeechRules
) -> Attribution | None:
    """ "Moldova's intelligence service", "the Czech government": a name, then up to
    three lowercase words, ending in an institution noun."""
    index = head - 1
    while index >= 0 and head - index <= 4 and not _is_name(words[index], rules):
        word = words[index]
        if word.key in _DETERMINERS or not word.text.replace("-", "").isalpha():
            return None
        index -= 1
    if index < 0 or not _is_name(words[index], rules):
        return None
    first = _run_left(words, index, rules)
    while first <= index and words[first].key in rules.not_names:
        first += 1
    if first > index or (first == index == 0 and _common_opening(words[0], words[head], rules)):
        return None
    start, end = words[first].start, words[head].end
    if sentence[end - 1] == ".":  # the sentence's full stop ("…, said Cho's ministry.")
        end -= 1
    return Attribution(sentence[start:end], start, end)


def _common_opening(word: Word, head: Word, rules: SpeechRules) -> bool:
    """Whether ``word``, opening a sentence before the plural institution noun
    ``head``, is a common noun capitalised by its place ("Aid agencies said",
    "Health authorities said": nobody in particular) rather than a name: it
    is no state, demonym or acronym."""
    key = word.key.removesuffix("’s").removesuffix("'s")
    return (
        head.key.endswith("s")
        and key not in rules.states
        and key not in rules.generic
        and not word.text.isupper()
    )


def _institution_before(
    sentence: str, words: list[Word], role: int, rules: SpeechRules
) -> Attribution | None:
    """ "a Kremlin spokesman said", "Venezuela’s foreign ministry said"."""
    definite = _definite_role(sentence, words, role, rules)
    if definite is not None:
        return definite
    index = role - 1
    while index >= 0 and index >= role - 2 and not _is_name(words[index], rules):
        if words[index].key in _DETERMINERS or not words[index].text.isalpha():
            return None
        index -= 1
    if index < 0 or not _is_name(words[index], rules):
        return None
    return _name_before(sentence, words, index, rules)


def _definite_role(
    sentence: str, words: list[Word], head: int, rules: SpeechRules
) -> Attribution | None:
    """ "the foreign minister said": "the", up to two lowercase words, a title."""
    if words[head].key not in rules.titles and words[head].key not in rules.roles:
        return None
    for index in range(head - 1, max(head - 4, -1), -1):
        word = words[index]
        if word.key == "the":
            start, end = word.start, words[head].end
            return Attribution(sentence[start:end], start, end, person=True, role=words[head].key)
        if not word.text.isalpha() or not word.text.islower():
            return None
    return None


def _apposition(
    sentence: str, words: list[Word], comma: int, rules: SpeechRules
) -> Attribution | None:
    """ "Dmitry Peskov, the Kremlin spokesman, said"."""
    for index in range(comma - 1, max(comma - 14, 0), -1):
        if words[index].text != ",":
            continue
        opener = words[index + 1]
        opens_apposition = (
            opener.key in _DETERMINERS or opener.key in rules.titles or opener.key == "who"
        )
        if opens_apposition and index > 0 and _is_name(words[index - 1], rules):
            found = _name_before(sentence, words, index - 1, rules)
            return found if found is None else _as_person(found)
        return None
    return None


def _name_after(
    sentence: str, words: list[Word], first: int, rules: SpeechRules
) -> Attribution | None:
    """The name in "said Kremlin spokesman Dmitry Peskov" or "according to a Kremlin source"."""
    index = first
    best: Attribution | None = None
    while index < len(words) and index < first + 8:
        word = words[index]
        if _is_name(word, rules):
            last = _run_right(words, index, rules)
            head = _institution_head(words, last, rules)
            if head is not None:
                return _institution_phrase(sentence, words, head, rules)
            if _is_verb(words, last + 1) and words[last].text.endswith(("’s", "'s")):
                return best  # "according to Korea's largest steelmaker": not Korea
            best = _clean(sentence, words[index : last + 1], rules) or best
            index = last + 1
            continue
        if word.key in _DETERMINERS or word.key in rules.titles or word.key in rules.roles:
            index += 1
            continue
        break
    return best


def _institution_head(words: list[Word], last: int, rules: SpeechRules) -> int | None:
    """Index of the institution noun closing "Swedish security service", if any."""
    for index in range(last + 1, min(last + 4, len(words))):
        word = words[index]
        if word.key in rules.institutions:
            return index
        if _is_name(word, rules) or not word.text.isalpha() or word.key in _DETERMINERS:
            return None
    return None


def _clean(sentence: str, run: list[Word], rules: SpeechRules) -> Attribution | None:
    """Drop titles and determiners from a name run; keep the name as written."""
    person = False
    titled = [i for i, w in enumerate(run) if w.key in rules.titles]
    if titled and titled[-1] < len(run) - 1:
        run = run[titled[-1] + 1 :]
        person = True
        while len(run) > 2 and run[0].key in rules.connectors:
            run = run[2:]
    while run and (run[0].key in rules.not_names or run[0].key in rules.connectors):
        run = run[1:]
    if not run or (len(run) == 1 and run[0].key in rules.generic):
        return None
    start, end = run[0].start, run[-1].end
    name = sentence[start:end]
    # "Peskov's", and the plural possessive's bare mark: "the FSS' report".
    for suffix in ("’s", "'s", "’", "'"):
        if name.endswith(suffix):
            name, end = name[: -len(suffix)], end - len(suffix)
    name = name.rstrip(".") if not run[-1].key.endswith(("jr", "sr")) else name
    return Attribution(name, start, start + len(name), person=person) if name else None


def _as_person(found: Attribution) -> Attribution:
    return Attribution(found.name, found.start, found.end, found.pronoun, person=True)
