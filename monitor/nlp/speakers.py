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
* "the foreign minister said", "the court said" (definite descriptions,
  resolved by the caller),
* "he said" (a pronoun; resolved by the caller to the last named speaker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.words import (
    Word,
    is_name,
    is_possessive,
    is_verb,
    outside,
    run_left,
    run_right,
    words_of,
)

_DETERMINERS = frozenset({"the", "a", "an"})
_QUOTE_MARKS = frozenset({"”", '"', "’", "“", "‘"})
#: After an object verb: a short object, then a quotation ("called the claims “absurd”").
_QUOTED_OBJECT = re.compile(r"\s+(?:[\w'’-]+\s+){1,4}[\"“‘]")
#: Words that open an apposition after a name: "Abdou Kane, one of the
#: candidates, said"; "The Democratic Alliance, which came second, said".
_APPOSITION_OPENERS = frozenset({"who", "which", "one", "speaking", "addressing", "writing"})


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
    #: Set for a definite description: the title of a person ("the foreign
    #: minister said", ``person`` true), which the caller resolves to the name
    #: last written with that title; or an institution noun ("the court said"),
    #: resolved to the last name holding that noun ("Romania's Constitutional Court").
    role: str | None = None


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
        words = outside(words, quotes)
    for index, word in enumerate(words):
        key = word.key
        if key == "according" and index + 2 < len(words) and words[index + 1].key == "to":
            found = _name_after(sentence, words, index + 2, rules)
        elif (key in rules.verbs or key in rules.object_verbs) and _reports_speech(
            sentence, words, index, rules
        ):
            found = _speaker_of_verb(sentence, words, index, rules)
        elif key in rules.participles and index > 0 and words[index - 1].text == ",":
            found = _subject(sentence, words, rules)
        else:
            continue
        if found is not None:
            return found
    return None


def _reports_speech(sentence: str, words: list[Word], index: int, rules: SpeechRules) -> bool:
    """Whether the word at ``index`` is a speech verb in the active voice:
    "said", "called it", "called the claims “absurd”" — not "Accused Of" (a
    headline's passive)."""
    key = words[index].key
    following = words[index + 1].key if index + 1 < len(words) else ""
    if key in rules.verbs:
        return (key, following) not in rules.passive_phrases
    if key not in rules.object_verbs:
        return False
    return (
        following in rules.object_pronouns
        or _QUOTED_OBJECT.match(sentence, words[index].end) is not None
    )


def _subject(sentence: str, words: list[Word], rules: SpeechRules) -> Attribution | None:
    """The name a sentence opens with, when a lowercase word (its verb) follows
    it: "Azerbaijan summoned …", "Russian President Vladimir Putin signed …",
    "Bangladesh's main opposition party boycotted …"."""
    first = 1 if words and words[0].key in _DETERMINERS else 0
    if first >= len(words):
        return None
    if not is_name(words[first], rules):  # "The opposition leader Maria Machado refused …"
        named = _titled_name_after(words, first, rules)
        if named is None or not is_verb(words, named[1] + 1):
            return None
        return _clean(sentence, words[named[0] : named[1] + 1], rules)
    last = run_right(words, first, rules)
    if is_possessive(words[last].text):  # the name is the owner, not the subject
        head = _institution_head(words, last, rules)
        while (
            head is not None and head + 1 < len(words) and words[head + 1].key in rules.institutions
        ):
            head += 1  # a compound head: "opposition party"
        if head is None or not is_verb(words, head + 1):
            return None
        return _institution_phrase(sentence, words, head, rules)
    named = _titled_name_after(words, last + 1, rules)
    if named is not None:  # "Fresno State head coach Carl Benning declined …"
        first, last = named
    if not is_verb(words, last + 1):
        return None
    if first == last and words[first].key not in rules.states:
        # A lone capitalised word opening a sentence is as often a common
        # noun ("Protests grew, …") as a name: trust only a known state.
        return None
    return _clean(sentence, words[first : last + 1], rules)


def _titled_name_after(words: list[Word], index: int, rules: SpeechRules) -> tuple[int, int] | None:
    """The (first, last) word indices of a name introduced at ``index`` by up
    to three lowercase words ending in a title ("head coach Carl Benning"), if any."""
    for title in range(index, min(index + 3, len(words))):
        word = words[title]
        if not (word.text.isalpha() and word.text.islower()):
            return None
        if word.key in rules.titles and title + 1 < len(words) and is_name(words[title + 1], rules):
            return title + 1, run_right(words, title + 1, rules)
    return None


def _speaker_of_verb(
    sentence: str, words: list[Word], verb: int, rules: SpeechRules
) -> Attribution | None:
    left = verb - 1
    while left >= 0 and words[left].key in rules.fillers:
        left -= 1
    if left >= 2 and words[left].text == ")" and words[left - 2].text == "(":
        left -= 3  # an acronym after the name: "The People's Progressive Alliance (PPA) said"
    if left < 0:
        return _name_after(sentence, words, verb + 1, rules) if verb == 0 else None
    word = words[left]
    if word.key in rules.passive:
        return None
    if word.key == "and":  # "Kurup cast his vote … and said": the sentence's subject
        return _subject(sentence, words, rules)
    if word.key in rules.pronouns and not word.text.isupper():
        return Attribution(word.text, word.start, word.end, pronoun=word.key)
    if is_name(word, rules):
        return _placed(sentence, words, left, rules)
    if word.key in rules.roles:
        return _institution_before(sentence, words, left, rules)
    if word.key in rules.institutions:
        return (
            _institution_phrase(sentence, words, left, rules)
            or _definite_role(sentence, words, left, rules)
            or _definite_institution(sentence, words, left, rules)
        )
    if word.key in rules.titles:
        return _definite_role(sentence, words, left, rules)
    if word.key in rules.companies:  # "the company said"
        return _definite_institution(sentence, words, left, rules)
    if word.text == ",":
        if left > 0 and words[left - 1].text in _QUOTE_MARKS:
            return _name_after(sentence, words, verb + 1, rules)
        if left > 0 and is_name(words[left - 1], rules):
            first = run_left(words, left - 1, rules)
            if _place_after_place(words, first, left - 1, rules):
                return None  # "A recount in Marlow County, Pennsylvania, has confirmed"
            if _opens_with_comma(words, first, rules):
                found = _name_before(sentence, words, left - 1, rules)
                return found if found is None else _as_person(found)
        return _apposition(sentence, words, left, rules)
    if word.text in _QUOTE_MARKS:
        return _name_after(sentence, words, verb + 1, rules)
    return None


def _place_after_place(words: list[Word], first: int, last: int, rules: SpeechRules) -> bool:
    """Whether the one-word name at ``first``..``last`` follows a name and a
    comma: "Marlow County, Pennsylvania," names a place, not a speaker (a
    person in apposition is written with two words or more)."""
    return (
        first == last
        and first >= 2
        and words[first - 1].text == ","
        and is_name(words[first - 2], rules)
    )


def _opens_with_comma(words: list[Word], first: int, rules: SpeechRules) -> bool:
    """Whether a comma comes right before the name starting at ``first``, or
    before a lowercase title (and up to two lowercase words) introducing it:
    "His rival, Darlene Ortiz, conceded"; "One of the two, county
    commissioner Tom Rusk, told Reuters"."""
    index = first - 1
    if index >= 0 and words[index].key in rules.titles and words[index].text.islower():
        index -= 1
        while index >= 0 and first - index <= 3 and words[index].text.isalpha():
            if not words[index].text.islower():
                return False
            index -= 1
    return index >= 0 and words[index].text == ","


def _name_before(
    sentence: str, words: list[Word], last: int, rules: SpeechRules
) -> Attribution | None:
    return _clean(sentence, words[run_left(words, last, rules) : last + 1], rules)


def _placed(sentence: str, words: list[Word], last: int, rules: SpeechRules) -> Attribution | None:
    """A name before the verb, unless it is only the place of the speaker:
    "the Chinese embassy in London said" → the embassy; "Officials in Berlin said" → nobody."""
    first = run_left(words, last, rules)
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
    while index >= 0 and head - index <= 4 and not is_name(words[index], rules):
        word = words[index]
        if word.key in _DETERMINERS or not word.text.replace("-", "").isalpha():
            return None
        index -= 1
    if index < 0 or not is_name(words[index], rules):
        return None
    first = run_left(words, index, rules)
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
    while index >= 0 and index >= role - 2 and not is_name(words[index], rules):
        if words[index].key in _DETERMINERS or not words[index].text.isalpha():
            return None
        index -= 1
    if index < 0 or not is_name(words[index], rules):
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


def _definite_institution(
    sentence: str, words: list[Word], head: int, rules: SpeechRules
) -> Attribution | None:
    """ "the court said", "the electoral commission said": "the", up to two
    lowercase words, an institution noun that names nobody on its own (not
    "the police"). The caller resolves it to the name last written with that
    noun ("Romania's Constitutional Court")."""
    if words[head].key in rules.generic or not words[head].text.islower():
        return None
    for index in range(head - 1, max(head - 4, -1), -1):
        word = words[index]
        if word.key == "the":
            start, end = word.start, words[head].end
            return Attribution(sentence[start:end], start, end, role=words[head].key)
        if not word.text.isalpha() or not word.text.islower():
            return None
    return None


def _apposition(
    sentence: str, words: list[Word], comma: int, rules: SpeechRules
) -> Attribution | None:
    """ "Dmitry Peskov, the Kremlin spokesman, said", "…, Russia's foreign minister, said"."""
    for index in range(comma - 1, max(comma - 14, 0), -1):
        if words[index].text != ",":
            continue
        opener = words[index + 1]
        opens_apposition = (
            opener.key in _DETERMINERS
            or opener.key in rules.titles
            or opener.key in _APPOSITION_OPENERS
            or is_possessive(opener.text)  # "Sergei Lavrov, Russia's foreign minister, said"
        )
        if opens_apposition and index > 0 and is_name(words[index - 1], rules):
            found = _name_before(sentence, words, index - 1, rules)
            # "which" follows an institution; every other opener, a person.
            return found if found is None or opener.key == "which" else _as_person(found)
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
        if is_name(word, rules):
            last = run_right(words, index, rules)
            head = _institution_head(words, last, rules)
            if head is not None:
                return _institution_phrase(sentence, words, head, rules)
            if is_verb(words, last + 1) and is_possessive(words[last].text):
                return best  # "according to Korea's largest steelmaker": not Korea
            best = _clean(sentence, words[index : last + 1], rules) or best
            index = last + 1
            continue
        if word.key in _DETERMINERS or word.key in rules.titles or word.key in rules.roles:
            index += 1
            continue
        if word.text == "," and index > first and words[index - 1].key in rules.titles:
            index += 1  # "said his lawyer, Henrik Lund"
            continue
        if _describes_next(words, index, rules):  # "public broadcaster NHK"
            index += 1
            continue
        break
    return best


def _describes_next(words: list[Word], index: int, rules: SpeechRules) -> bool:
    """Whether the lowercase word at ``index`` starts a description ending, one
    or two words on, in a title, role or institution noun ("public broadcaster",
    "the electoral service")."""
    if not (words[index].text.isalpha() and words[index].text.islower()):
        return False
    if words[index].key in rules.institutions:
        return True
    for word in words[index + 1 : index + 3]:
        if word.key in rules.titles or word.key in rules.roles or word.key in rules.institutions:
            return True
        if not (word.text.isalpha() and word.text.islower()):
            return False
    return False


def _institution_head(words: list[Word], last: int, rules: SpeechRules) -> int | None:
    """Index of the institution noun closing "Swedish security service", if any."""
    for index in range(last + 1, min(last + 4, len(words))):
        word = words[index]
        if word.key in rules.institutions:
            return index
        if is_name(word, rules) or not word.text.isalpha() or word.key in _DETERMINERS:
            return None
    return None


def _clean(sentence: str, run: list[Word], rules: SpeechRules) -> Attribution | None:
    """Drop titles and determiners from a name run; keep the name as written."""
    person = False
    titled = [i for i, w in enumerate(run) if w.key in rules.titles]
    if titled and titled[-1] < len(run) - 1:
        title = titled[-1]
        after = run[title + 1 :]
        while len(after) > 2 and after[0].key in rules.connectors:
            after = after[2:]  # "President of Brazil Luiz Inacio Lula da Silva"
        if len(after) == 1 and run[title + 1].key in rules.connectors:
            run = run[title:]  # an office, no person: "Director of National Intelligence"
        else:
            run, person = after, True
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
