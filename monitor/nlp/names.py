"""Speaker names from words: the :class:`Attribution` a rule finds, and
the helpers that turn a run of words into one — titles and determiners
dropped (:func:`clean_name`), institution phrases ("Moldova's intelligence
service"), definite descriptions ("the foreign minister", "the court").

Pure functions of a sentence's words (:mod:`monitor.nlp.words`) and the
speech vocabulary; :mod:`monitor.nlp.speakers` decides where to look.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.words import Word, is_name, run_left

DETERMINERS = frozenset({"the", "a", "an"})


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


#: The ``role`` of a description standing for two people ("the two leaders").
PAIR_ROLE = "two people"


def name_before(
    sentence: str, words: list[Word], last: int, rules: SpeechRules
) -> Attribution | None:
    return clean_name(sentence, words[run_left(words, last, rules) : last + 1], rules)


def institution_phrase(
    sentence: str, words: list[Word], head: int, rules: SpeechRules
) -> Attribution | None:
    """ "Moldova's intelligence service", "the Czech government": a name, then up to
    three lowercase words, ending in an institution noun."""
    index = head - 1
    while index >= 0 and head - index <= 4 and not is_name(words[index], rules):
        word = words[index]
        if word.key in DETERMINERS or not word.text.replace("-", "").isalpha():
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


def definite_role(
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
        demonym = word.key in rules.generic or word.key in rules.states  # "the Russian leader"
        if not word.text.isalpha() or not (word.text.islower() or demonym):
            return None
    return None


def definite_institution(
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


def institution_head(words: list[Word], last: int, rules: SpeechRules) -> int | None:
    """Index of the institution noun closing "Swedish security service", if any."""
    for index in range(last + 1, min(last + 4, len(words))):
        word = words[index]
        if word.key in rules.institutions:
            return index
        if is_name(word, rules) or not word.text.isalpha() or word.key in DETERMINERS:
            return None
    return None


def clean_name(sentence: str, run: list[Word], rules: SpeechRules) -> Attribution | None:
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
        elif len(after) == 1 and after[0].key in rules.institutions:
            pass  # an institution, no title: "the Justice Department"
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


def names_data(found: Attribution, rules: SpeechRules) -> bool:
    """Whether a source after "according to" is data ("the official figures"),
    not a body named for its data ("the National Bureau of Statistics")."""
    head = found.name.rsplit(None, 1)[-1]
    return head.islower() and head.rstrip(".") in rules.data_nouns


def as_person(found: Attribution) -> Attribution:
    return Attribution(found.name, found.start, found.end, found.pronoun, person=True)
