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

from monitor.nlp.names import (
    DETERMINERS,
    Attribution,
    as_person,
    clean_name,
    definite_institution,
    definite_role,
    institution_head,
    institution_phrase,
    name_before,
    names_data,
)
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

_QUOTE_MARKS = frozenset({"”", '"', "’", "“", "‘", "»", "«"})
#: Dashes that lead from a quotation to its verb ("«…», — заявил Песков").
_DASHES = frozenset({"—", "–", "-"})
#: After an object verb: a short object, then a quotation ("called the claims “absurd”").
_QUOTED_OBJECT = re.compile(r"\s+(?:[\w'’-]+\s+){1,4}[\"“‘]")
#: Words that open an apposition after a name: "Abdou Kane, one of the
#: candidates, said"; "The Democratic Alliance, which came second, said".
_APPOSITION_OPENERS = frozenset({"who", "which", "one", "speaking", "addressing", "writing"})


def find_attribution(
    sentence: str,
    quotes: list[tuple[int, int]],
    rules: SpeechRules,
    *,
    prechecked: bool = False,
    words: list[Word] | None = None,
) -> Attribution | None:
    """The first attribution outside quotes, or None.

    ``prechecked`` says the caller already knows the sentence holds a speech
    verb; ``words``, when given, are the sentence's words outside ``quotes``
    (:func:`~monitor.nlp.words.words_of` then :func:`~monitor.nlp.words.outside`).
    """
    if not prechecked and not rules.trigger.search(sentence):
        return None
    if words is None:
        words = words_of(sentence)
        if quotes:
            words = outside(words, quotes)
    for index, word in enumerate(words):
        key = word.key
        phrase = according_phrase(words, index, rules)
        if phrase:
            keys = tuple(w.key for w in words[index : index + phrase])
            pronoun = rules.according_pronouns.get(keys)
            if pronoun is not None:  # "По его словам, …"
                first, last = words[index], words[index + phrase - 1]
                return Attribution(sentence[first.start : last.end], first.start, last.end, pronoun)
            found = _after_verb(sentence, words, index + phrase - 1, rules)
            if found is not None and names_data(found, rules):
                continue  # "according to the official figures": data, no speaker
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


def according_phrase(words: list[Word], index: int, rules: SpeechRules) -> int:
    """The length of an "according to" phrase starting at ``index`` ("according
    to", "según", "по словам"), or 0."""
    if words[index].key not in rules.according_first:
        return 0  # most words open no such phrase
    for phrase in rules.according:
        end = index + len(phrase)
        if end <= len(words) and all(words[index + i].key == part for i, part in enumerate(phrase)):
            return len(phrase)
    return 0


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
    first = 1 if words and words[0].key in DETERMINERS else 0
    if first >= len(words):
        return None
    if not is_name(words[first], rules):  # "The opposition leader Maria Machado refused …"
        named = _titled_name_after(words, first, rules)
        if named is None or not is_verb(words, named[1] + 1):
            return None
        return clean_name(sentence, words[named[0] : named[1] + 1], rules)
    last = run_right(words, first, rules)
    if is_possessive(words[last].text):  # the name is the owner, not the subject
        head = institution_head(words, last, rules)
        while (
            head is not None and head + 1 < len(words) and words[head + 1].key in rules.institutions
        ):
            head += 1  # a compound head: "opposition party"
        if head is None or not is_verb(words, head + 1):
            return None
        return institution_phrase(sentence, words, head, rules)
    named = _titled_name_after(words, last + 1, rules)
    if named is not None:  # "Fresno State head coach Carl Benning declined …"
        first, last = named
    if not is_verb(words, last + 1):
        return None
    if first == last and words[first].key not in rules.states:
        # A lone capitalised word opening a sentence is as often a common
        # noun ("Protests grew, …") as a name: trust only a known state.
        return None
    return clean_name(sentence, words[first : last + 1], rules)


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
    if left < 0:  # nothing but fillers before: "Об этом заявил пресс-секретарь Дмитрий Песков"
        return _after_verb(sentence, words, verb, rules)
    if words[verb].key in rules.impersonal:  # "В заявлении … говорится": its issuer, said before
        return Attribution(words[verb].text, words[verb].start, words[verb].end, pronoun="it")
    word = words[left]
    if (
        word.text in _DASHES
        and left > 0
        and (words[left - 1].text == "," or words[left - 1].text in _QUOTE_MARKS)
    ):
        return _after_verb(sentence, words, verb, rules)  # "«…», – подчеркнул Майк Пенс"
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
        if word.key in rules.titles:  # "the Russian leader said": a person, described
            described = definite_role(sentence, words, left, rules)
            if described is not None:
                return described
        return (
            institution_phrase(sentence, words, left, rules)
            or definite_role(sentence, words, left, rules)
            or definite_institution(sentence, words, left, rules)
        )
    if word.key in rules.titles:
        return definite_role(sentence, words, left, rules)
    if word.key in rules.companies:  # "the company said"
        return definite_institution(sentence, words, left, rules)
    if word.text == ",":
        if left > 0 and words[left - 1].text in _QUOTE_MARKS:
            return _after_verb(sentence, words, verb, rules)
        if left > 0 and is_name(words[left - 1], rules):
            first = run_left(words, left - 1, rules)
            if _place_after_place(words, first, left - 1, rules):
                return None  # "A recount in Marlow County, Pennsylvania, has confirmed"
            if _opens_with_comma(words, first, rules):
                before = name_before(sentence, words, left - 1, rules)
                return None if before is None else as_person(before)
        # "…, said the minister" / "…, говорят аналитики": the speaker after the verb.
        return _apposition(sentence, words, left, rules) or _name_after(
            sentence, words, verb + 1, rules
        )
    if word.text in _QUOTE_MARKS:
        return _after_verb(sentence, words, verb, rules)
    return None


def _after_verb(
    sentence: str, words: list[Word], verb: int, rules: SpeechRules
) -> Attribution | None:
    """The speaker written after the verb: a name ("said Peskov", "заявил
    Дмитрий Песков") or a pronoun ("– сказал он")."""
    after = verb + 1
    if after < len(words) and words[after].key in rules.pronouns and words[after].text.islower():
        word = words[after]
        return Attribution(word.text, word.start, word.end, pronoun=word.key)
    return _name_after(sentence, words, after, rules)


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


def _placed(sentence: str, words: list[Word], last: int, rules: SpeechRules) -> Attribution | None:
    """A name before the verb, unless it is only the place of the speaker:
    "the Chinese embassy in London said" → the embassy; "Officials in Berlin said" → nobody."""
    first = run_left(words, last, rules)
    before = first - 1
    if before >= 0 and words[before].key in DETERMINERS:
        before -= 1
    if before >= 1 and words[before].key in rules.place_prepositions:
        head = words[before - 1]
        if head.key in rules.institutions or head.key in rules.roles:
            return institution_phrase(sentence, words, before - 1, rules)
        if head.key in rules.generic and words[before].key in rules.member_prepositions:
            return name_before(sentence, words, last, rules)
        return None
    return name_before(sentence, words, last, rules)


def _institution_before(
    sentence: str, words: list[Word], role: int, rules: SpeechRules
) -> Attribution | None:
    """ "a Kremlin spokesman said", "Venezuela’s foreign ministry said"."""
    definite = definite_role(sentence, words, role, rules)
    if definite is not None:
        return definite
    index = role - 1
    while index >= 0 and index >= role - 2 and not is_name(words[index], rules):
        if words[index].key in DETERMINERS or not words[index].text.isalpha():
            return None
        index -= 1
    if index < 0 or not is_name(words[index], rules):
        return None
    return name_before(sentence, words, index, rules)


def _apposition(
    sentence: str, words: list[Word], comma: int, rules: SpeechRules
) -> Attribution | None:
    """ "Dmitry Peskov, the Kremlin spokesman, said", "…, Russia's foreign minister, said"."""
    for index in range(comma - 1, max(comma - 14, 0), -1):
        if words[index].text != ",":
            continue
        opener = words[index + 1]
        opens_apposition = (
            opener.key in DETERMINERS
            or opener.key in rules.titles
            or opener.key in _APPOSITION_OPENERS
            or is_possessive(opener.text)  # "Sergei Lavrov, Russia's foreign minister, said"
        )
        if opens_apposition and index > 0 and is_name(words[index - 1], rules):
            found = name_before(sentence, words, index - 1, rules)
            # "which" follows an institution; every other opener, a person.
            return found if found is None or opener.key == "which" else as_person(found)
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
        if index == first and word.key in rules.generic and not is_name(word, rules):
            return Attribution(word.text, word.start, word.end)  # "…, говорят аналитики"
        if (
            index == first
            and sentence[word.end : word.end + 1] == "%"
            and _lower_next(words, index)
        ):
            # "Об этом заявили 60% опрошенных": a share of the people asked
            end = words[index + 1].start + len(words[index + 1].key)
            return Attribution(sentence[word.start : end], word.start, end)
        if is_name(word, rules):
            last = run_right(words, index, rules)
            head = institution_head(words, last, rules)
            if head is not None and _titled_name_follows(words, head, rules):
                index = head + 1  # "said Kremlin spokesman Dmitry Peskov": the person
                continue
            if head is not None:
                return institution_phrase(sentence, words, head, rules)
            if is_verb(words, last + 1) and is_possessive(words[last].text):
                return best  # "according to Korea's largest steelmaker": not Korea
            best = clean_name(sentence, words[index : last + 1], rules) or best
            group = _group_after(sentence, words, last, best, rules)
            if group is not None:
                return group  # "according to Western leaders": not "Western"
            index = last + 1
            continue
        if word.key in DETERMINERS or word.key in rules.titles or word.key in rules.roles:
            index += 1
            continue
        if word.key == "of" and best is not None and best.name.lower() in rules.titles:
            # "said Secretary of the Treasury Steven T. Mnuchin": an office, then the name
            best, index = None, index + 1
            continue
        if word.text == "," and index > first and words[index - 1].key in rules.titles:
            index += 1  # "said his lawyer, Henrik Lund"
            continue
        if _describes_next(words, index, rules):  # "public broadcaster NHK"
            index += 1
            continue
        break
    return best


def _titled_name_follows(words: list[Word], head: int, rules: SpeechRules) -> bool:
    """Whether ``words[head]`` is a person's title with a name right after it."""
    return (
        words[head].key in rules.titles
        and head + 1 < len(words)
        and is_name(words[head + 1], rules)
    )


def _group_after(
    sentence: str, words: list[Word], last: int, name: Attribution | None, rules: SpeechRules
) -> Attribution | None:
    """ "U.S. officials", "OSCE observers": a name and the lowercase generic
    noun right after it (``last`` is the name's last word), as one speaker."""
    if name is None or last + 1 >= len(words):
        return None
    noun = words[last + 1]
    if (
        noun.key not in rules.generic
        or noun.key in rules.titles  # "Kremlin spokesman Dmitry Peskov": a title
        or noun.key in rules.roles
        or not noun.text.islower()
    ):
        return None
    end = noun.start + len(noun.text.rstrip("."))
    return Attribution(sentence[name.start : end], name.start, end)


def _lower_next(words: list[Word], index: int) -> bool:
    """Whether a lowercase word follows ``words[index]``."""
    if index + 1 >= len(words):
        return False
    key = words[index + 1].key
    return key.isalpha() and words[index + 1].text[:1].islower()


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
