"""The subject of a statement verb: "opposition parties accused …",
"Analysts say …", "On Friday, state television praised …".

:func:`subject_attribution` is the broad rule of ``LABELING.md``: whoever a
sentence's main clause says made a statement is its speaker, generic sources
("officials", "witnesses", "U.S. officials") included, named as written.
The narrow rules of :mod:`monitor.nlp.speakers` run first; this one answers
when they find nobody.

Pure: a function of the sentence, its quotations and the speech vocabulary.
There is no parser; the subject is the run of words from the clause's start
(the sentence's, or after an opening phrase and its comma) to the verb,
accepted only when it reads as a noun phrase: short, holding no clause word
("that", "when", "who") and ending in a word that can end one.
"""

from __future__ import annotations

from typing import Any

from monitor.nlp.names import PAIR_ROLE, Attribution, names_data
from monitor.nlp.speakers import according_phrase
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.words import Word, outside, words_of

#: Words between a subject and its verb: auxiliaries and adverbs.
_AUXILIARIES = frozenset(
    {"has", "have", "had", "is", "are", "was", "were", "will", "would", "could", "can",
     "may", "might", "should", "did", "does", "do", "been", "be", "being", "also",
     "jointly", "again", "then", "now", "still", "already", "further", "even", "just",
     "once", "first", "later", "today", "yesterday", "reportedly", "allegedly", "must",
     "each", "both", "all", "shall"}
)  # fmt: skip
_CLOSING_QUOTES = frozenset({"»", "”"})
_OPENING_QUOTES = frozenset({"«", "“"})
_BE = frozenset({"is", "are", "was", "were", "been", "be", "being"})
_NEGATIONS = frozenset({"not", "never", "n't", "no"})
#: Words a subject never holds: they open clauses or belong to verbs.
_CLAUSE_WORDS = frozenset(
    {"that", "which", "who", "whom", "whose", "when", "after", "before", "because",
     "while", "if", "although", "though", "since", "where", "whether", "than", "until",
     "unless", "once", "as", "so", "to", "not", "is", "are", "was", "were", "has", "have",
     "had", "will", "would", "be", "been", "can", "could", "should", "may", "might",
     "did", "does", "do", "what", "how", "why", "there"}
)  # fmt: skip
#: Words a subject does not end with.
_NOT_LAST = frozenset(
    {"the", "a", "an", "of", "to", "in", "on", "at", "for", "with", "by", "from", "and",
     "or", "but", "this", "that", "these", "those", "its", "their", "his", "her", "our",
     "my", "your", "it", "there", "here", "which", "what", "all", "both", "each", "such",
     "about", "into", "over", "under", "between", "against", "per", "via", "than", "as",
     "i", "we", "you", "me", "us", "them", "him"}
)  # fmt: skip
#: Words opening a sentence that are not part of its subject.
_OPENERS = frozenset(
    {"but", "and", "however", "meanwhile", "so", "yet", "also", "still", "now", "then",
     "instead", "moreover", "furthermore", "indeed", "separately", "later", "earlier",
     "previously", "today", "yesterday", "finally", "thus", "hence", "or", "nor"}
)  # fmt: skip
#: Prepositions that open an introductory phrase ("On Friday morning, …").
_INTRODUCERS = frozenset(
    {"on", "in", "at", "during", "from", "after", "before", "since", "for", "with",
     "amid", "following", "despite", "under", "over", "according", "as", "when", "while",
     "by", "to", "within", "without", "last", "this", "earlier", "later", "speaking",
     "referring", "asked", "addressing", "writing", "meanwhile", "however", "also",
     "separately", "but", "and", "instead", "today", "yesterday", "like", "unlike"}
)  # fmt: skip
_DETERMINERS = frozenset({"the", "a", "an"})
_PUNCTUATION = frozenset(
    {",", ";", ":", "(", ")", "—", "–", "“", "”", '"', "‘", "’", "«", "»", "„"}
)
_MAX_WORDS = 12
#: Verbs that report speech only with one of these words after them ("called for").
_PARTICLE_VERBS = {
    "call": ("for", "on", "upon"),
    "calls": ("for", "on", "upon"),
    "called": ("for", "on", "upon"),
    "calling": ("for", "on", "upon"),
    "find": ("that",),
    "finds": ("that",),
    "found": ("that",),
    "made": ("clear",),
    "makes": ("clear",),
    "referred": ("to",),
    "refers": ("to",),
    "referring": ("to",),
    # "charged that …" reports; "charged 13 Russians with …" is an action.
    "charged": ("that",),
    "charges": ("that",),
    "pointed": ("out",),
    "points": ("out",),
}


def subject_attribution(
    sentence: str,
    quotes: list[tuple[int, int]],
    rules: SpeechRules,
    words: list[Word] | None = None,
    *,
    main_only: bool = False,
) -> Attribution | None:
    """The subject of the first statement verb of the sentence's main clause
    (outside quotations), or None; a pronoun subject comes back as an
    :class:`Attribution` with ``pronoun`` set, for the caller to resolve.
    ``words``, when given, are the sentence's words outside ``quotes``;
    ``main_only`` leaves out a subject found in an opening clause only."""
    if words is None:
        words = words_of(sentence)
        if quotes:
            words = outside(words, quotes)
    fallback: Attribution | None = None
    keys = _candidate_keys(rules)
    # One set lookup per word finds the few words any rule below can start at.
    for index in [i for i, w in enumerate(words) if w.key in keys or w.text == ":"]:
        word = words[index]
        phrase = according_phrase(words, index, rules)
        if phrase:  # "according to the documents", "según el gobierno estadounidense"
            source = _source_after(sentence, words, index + phrase)
            if source is not None and not names_data(source, rules):
                return source
            continue
        if word.key in _QUOTING and index + 1 < len(words):
            quoted = _quoted_as_saying(sentence, words, index)
            if quoted is not None:  # "Reuters quotes X as saying": the wire is a conduit
                return quoted
        if word.key in _INVERTED and _after_quotation(sentence, word.start):
            inverted = _name_run(sentence, words, index + 1)
            if inverted is not None:  # "“…,” began peace activist Antonio Mazzeo"
                return inverted
        if _introduces_quotation(sentence, words, index):
            # "But Antonio Mazzeo then wanted to sound an alarm: “…”"
            opening = opening_subject(sentence, words[:index], rules)
            if opening is not None:
                return opening
        if word.key in rules.participles and index > 1 and words[index - 1].text == ",":
            # "Previously, the Bush administration had defended its use, claiming …"
            opening = opening_subject(sentence, words[: index - 1], rules)
            if opening is not None:
                return opening
        if _participle_after_noun(words, index, rules):
            # "… is a fabricated video claiming …", "following police reports alleging …"
            noun = _noun_before(sentence, words, index)
            if noun is not None:
                return noun
        if word.key in rules.verbs or word.key in rules.statement_verbs:
            agent = _passive_agent(sentence, words, index, rules)
            if agent is not None:  # "The result was rejected by the opposition"
                return agent
        if word.key in rules.agent_participles:
            agent = _participle_agent(sentence, words, index, rules)
            if agent is not None:  # "Tres entes identificados por Estado"
                return agent
        if not _is_statement_verb(words, index, rules) and not _verb_after_and(words, index):
            continue
        found = _subject_before(sentence, words, index, rules)
        if found is None:
            continue
        if found[1]:  # in the main clause
            return found[0]
        fallback = fallback or found[0]
    return None if main_only else fallback


#: _candidate_keys per speech vocabulary (by identity: one per tagger, for life).
_KEYS: dict[int, tuple[SpeechRules, frozenset[str]]] = {}


def _candidate_keys(rules: SpeechRules) -> frozenset[str]:
    """Every word key a rule of :func:`subject_attribution` can start at."""
    cached = _KEYS.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1]
    keys = (
        rules.verbs
        | rules.statement_verbs
        | rules.according_first
        | rules.participles
        | rules.agent_participles
        | frozenset(_PARTICLE_VERBS)
        | _QUOTING
        | _INVERTED
        | _VERBS_AFTER_AND
    )
    _KEYS[id(rules)] = (rules, keys)
    return keys


#: Words that are verbs, not nouns, right after "and" ("… and falsely states …").
_VERBS_AFTER_AND = frozenset({"states", "reports", "notes", "claims", "questions", "warns"})


def _verb_after_and(words: list[Word], index: int) -> bool:
    if words[index].key not in _VERBS_AFTER_AND:
        return False
    before = index - 1
    while before >= 0 and _adverb(words[before]):
        before -= 1
    return before >= 0 and words[before].key == "and"


def _introduces_quotation(sentence: str, words: list[Word], index: int) -> bool:
    """Whether ``words[index]`` is a colon right before a quotation mark."""
    if words[index].text != ":":
        return False
    after = sentence[words[index].end :].lstrip()
    return after[:1] in ("“", '"', "«")


def _participle_after_noun(words: list[Word], index: int, rules: SpeechRules) -> bool:
    """Whether ``words[index]`` is a speech participle right after a noun
    ("a fabricated video claiming that …"), not after a comma."""
    return (
        words[index].key in rules.participles
        and index > 0
        and words[index - 1].text.isalpha()
        and words[index - 1].text.islower()
        and not _adverb(words[index - 1])
        and words[index - 1].key not in _NOT_LAST
    )


#: Words a noun phrase before a participle does not reach past.
_NOUN_STOPS = _AUXILIARIES | {"following", "after", "before", "with", "by", "of", "to", "for"}


def _noun_before(sentence: str, words: list[Word], index: int) -> Attribution | None:
    """The noun phrase (up to four words) right before ``words[index]``."""
    first = index
    while first > 0 and index - first < 4:
        word = words[first - 1]
        if word.text in _PUNCTUATION or word.key in _NOUN_STOPS or _adverb(word):
            break
        first -= 1
    if first == index:
        return None
    start, end = words[first].start, words[index - 1].end
    return Attribution(sentence[start:end], start, end)


#: "quotes X as saying": a conduit quoting the speaker.
_QUOTING = frozenset({"quotes", "quoted", "quoting", "cites", "cited", "citing"})
#: Verbs written after a quotation, before its speaker ("…,” began X).
_INVERTED = frozenset(
    {"began", "begins", "continued", "continues", "concluded", "concludes", "added", "adds",
     "explained", "explains", "wrote", "writes", "asked", "asks", "replied", "replies",
     "insisted", "noted", "recalled", "remarked", "said", "says", "told", "warned",
     "stressed", "argued", "declared", "announced", "responded"}
)  # fmt: skip


def _after_quotation(sentence: str, start: int) -> bool:
    """Whether a closing quotation mark (maybe after a comma) comes right before ``start``."""
    before = sentence[:start].rstrip()
    return before.endswith(("”", '"', ",”", ',"', "’", "”,", '",'))


def _name_run(sentence: str, words: list[Word], first: int) -> Attribution | None:
    """The capitalised name after an inverted verb, lowercase titles before it
    skipped ("peace activist Antonio Mazzeo")."""
    index = first
    while index < len(words) and index < first + 3 and words[index].text.islower():
        index += 1
    last = index
    while last < len(words) and words[last].text[:1].isupper():
        last += 1
    if last == index:
        return None
    start, end = words[index].start, words[last - 1].end
    return Attribution(sentence[start:end].rstrip("."), start, end, person=True)


def _quoted_as_saying(sentence: str, words: list[Word], verb: int) -> Attribution | None:
    """ "… quotes Tanzania Foreign Minister Bernard Membe as saying …": the quoted."""
    for index in range(verb + 1, min(verb + 10, len(words) - 1)):
        if words[index].key == "as" and words[index + 1].key in ("saying", "stating"):
            run = words[verb + 1 : index]
            if run and all(w.text[:1].isupper() or w.key in ("of", "the") for w in run):
                start, end = run[0].start, run[-1].end
                return Attribution(sentence[start:end], start, end, person=True)
            return None
    return None


def _source_after(sentence: str, words: list[Word], first: int) -> Attribution | None:
    """ "according to the documents", "according to documents leaked by The
    Guardian": the words after "according to", up to a comma or the end."""
    last = first
    while last < len(words) and words[last].text not in _PUNCTUATION and last - first < 8:
        last += 1
    run = words[first:last]
    if not run or run[-1].key in _NOT_LAST or any(w.key in _CLAUSE_WORDS for w in run):
        return None
    start, end = run[0].start, run[-1].end
    return Attribution(sentence[start:end].rstrip("."), start, end)


#: Words opening a subordinate clause at the start of a sentence.
_SUBORDINATORS = frozenset(
    {"hours", "days", "weeks", "minutes", "after", "before", "when", "while", "as", "since",
     "although", "though", "if", "once", "until", "because", "whereas"}
)  # fmt: skip


def in_opening_clause(sentence: str, words: list[Word], position: int) -> bool:
    """Whether ``position`` lies in a subordinate clause opening the sentence
    ("Hours before the electoral commission announced …, the party declared")."""
    if not words or words[0].key not in _SUBORDINATORS:
        return False
    comma = next((w.start for w in words if w.text == ","), None)
    return comma is not None and position < comma


def _is_statement_verb(words: list[Word], index: int, rules: SpeechRules) -> bool:
    key = words[index].key
    if key in _PARTICLE_VERBS:
        following = words[index + 1].key if index + 1 < len(words) else ""
        return following in _PARTICLE_VERBS[key]
    if key not in rules.verbs and key not in rules.statement_verbs:
        return False
    following = words[index + 1].key if index + 1 < len(words) else ""
    return words[index].text.islower() and (key, following) not in rules.passive_phrases


def _subject_before(
    sentence: str, words: list[Word], verb: int, rules: SpeechRules
) -> tuple[Attribution, bool] | None:
    """The subject ending right before ``verb`` (auxiliaries skipped), and
    whether it opens the sentence's main clause."""
    last = verb - 1
    skipped: list[str] = []
    while last >= 0 and (
        words[last].key in _AUXILIARIES or _adverb(words[last]) or words[last].key in rules.fillers
    ):
        skipped.append(words[last].key)
        last -= 1
    if last < 0 or words[last].key in _NEGATIONS:
        return None
    if _BE.intersection(skipped) and not words[verb].key.endswith("ing"):
        return None  # a passive: "was accused"
    if words[last].text in _CLOSING_QUOTES:  # a quoted name in the phrase: "службе «…»"
        mark = last - 1
        while mark >= 0 and words[mark].text not in _OPENING_QUOTES:
            mark -= 1
        if mark <= 0:
            return None
        last = mark - 1
    if words[last].key in _RELATIVES and last >= 2 and words[last - 1].text == ",":
        # "Opposition supporters, who said the vote was rigged, marched …": the
        # noun the relative clause hangs on said it; not the main clause's verb.
        noun = _noun_before(sentence, words, last - 1)
        return None if noun is None or _not_a_subject(noun, rules) else (noun, False)
    if words[last].text == ",":
        return _apposed(sentence, words, last, rules)
    if words[last].key == "and":  # "The third video uses the FBI seal and claims …"
        opening = opening_subject(sentence, words, rules)
        return None if opening is None else (opening, True)
    if words[last].key in _NOT_LAST or words[last].text in _PUNCTUATION:
        return None
    first = _clause_start(words, last)
    if first >= 2 and words[first - 1].text == "," and words[first].key in _DETERMINERS:
        named = _name_before_comma(sentence, words, first - 1)
        if named is not None:  # "Aparna Garg, the railway manager discussed …"
            return named, True
    main = first == 0 or words[first - 1].text == ","
    found = _phrase(sentence, words, first, last, rules, main)
    if found is None and first > 0 and words[first].key in rules.place_prepositions:
        # "Сенатор Кори Букер, представляющий …, в интервью … поделился": the
        # phrase before the verb is an adverbial; the subject opens the sentence.
        return _apposed(sentence, words, first - 1, rules)
    return found


#: How many words after a passive verb its agent's preposition may come
#: ("was described as free and fair by observers").
_AGENT_REACH = 6
#: Prepositions an agent's name may hold before a name ("the Ministry of
#: Foreign Affairs", "observers from the OSCE", "Departamento de Estado").
_NAME_JOINERS = frozenset({"of", "from", "de", "del"})
#: Determiners between such a preposition and the name.
_DETERMINERS_ANY = frozenset({"the", "el", "la", "los", "las"})
_QUOTE_MARKS = _OPENING_QUOTES | _CLOSING_QUOTES | {'"', "‘", "’", "„"}
#: Prepositions that end an agent's phrase ("by prosecutors of election fraud").
_AGENT_STOPS = frozenset(
    {"of", "in", "on", "for", "over", "at", "after", "before", "with", "about", "against",
     "during", "to", "as", "into", "amid", "since", "from", "under", "ahead"}
)  # fmt: skip


def _name_at(words: list[Word], index: int) -> bool:
    return index < len(words) and words[index].text[:1].isupper()


def _passive_agent(
    sentence: str, words: list[Word], verb: int, rules: SpeechRules
) -> Attribution | None:
    """For a statement verb in the passive ("was criticised by X", a headline's
    "Accused By X"), its agent X: who made the statement. None when the verb is
    active, or passive with no agent in its clause ("was accused of …")."""
    key = words[verb].key
    following = words[verb + 1].key if verb + 1 < len(words) else ""
    before = verb - 1
    while before >= 0 and _adverb(words[before]):
        before -= 1
    passive = (before >= 0 and words[before].key in rules.passive) or (
        key,
        following,
    ) in rules.passive_phrases
    if not passive:
        return None
    for index in range(verb + 1, min(verb + 1 + _AGENT_REACH, len(words))):
        word = words[index]
        # "as" may come first: "has been referred to as “…” by Washington".
        if word.text in _QUOTE_MARKS:
            continue
        particle = word.key == "as" or (word.key == "to" and index == verb + 1)
        if word.text in _PUNCTUATION or (word.key in _CLAUSE_WORDS and not particle):
            return None
        if word.key in rules.agent_prepositions:
            return _agent_phrase(sentence, words, index + 1, rules)
    return None


def _participle_agent(
    sentence: str, words: list[Word], verb: int, rules: SpeechRules
) -> Attribution | None:
    """The agent right after a participle of ``agent_participles`` and an agent
    preposition ("identificados por Estado"), or None."""
    after = verb + 1
    if after < len(words) and words[after].key in rules.agent_prepositions:
        return _agent_phrase(sentence, words, after + 1, rules)
    return None


def _agent_phrase(
    sentence: str, words: list[Word], first: int, rules: SpeechRules
) -> Attribution | None:
    """The noun phrase after "by": up to a comma, clause word or preposition
    ("of" and "from" kept before a name: "the Ministry of Foreign Affairs")."""
    last = first
    while last < len(words) and last - first < 8:
        word = words[last]
        if word.text in _PUNCTUATION or word.key in _CLAUSE_WORDS or word.key in rules.clause_words:
            break
        named_after = _name_at(words, last + 1) or (
            last + 1 < len(words)
            and words[last + 1].key in _DETERMINERS_ANY
            and _name_at(words, last + 2)
        )
        keeps_name = word.key in _NAME_JOINERS and word.text.islower() and named_after
        stops = word.key in _AGENT_STOPS or word.key in rules.place_prepositions
        if stops and not keeps_name:
            break
        last += 1
    while last > first and words[last - 1].key in _NOT_LAST:
        last -= 1
    if last == first:
        return None
    start, end = words[first].start, words[last - 1].end
    name = sentence[start:end].rstrip(".")
    agent = Attribution(name, start, start + len(name))
    return None if _not_a_subject(agent, rules) else agent


#: Relative pronouns whose clause may hold the statement verb ("X, who said …").
_RELATIVES = frozenset({"who", "which"})


def _not_a_subject(noun: Attribution, rules: SpeechRules) -> bool:
    """Whether the words before a relative clause's comma cannot be who spoke:
    a pronoun, a bare determiner, a conduit or a number ("in 2020, which …")."""
    key = noun.name.lower()
    last = key.rsplit(None, 1)[-1]
    return (
        key in rules.pronouns
        or last in _NOT_LAST
        or last in rules.conduits
        or not any(c.isalpha() for c in last)
    )


#: Words after a verb that show it is one ("uses the seal", "states that").
_AFTER_VERB = frozenset(
    {"the", "a", "an", "that", "to", "its", "his", "her", "their", "this", "these", "on",
     "in", "for", "with", "by", "from", "of", "it", "them", "him", "us"}
)  # fmt: skip


def opening_subject(sentence: str, words: list[Word], rules: SpeechRules) -> Attribution | None:
    """The noun phrase a sentence opens with, up to its first verb: "The third
    video" in "The third video uses the FBI seal and claims …". The verb is
    the first auxiliary, "-ly" adverb, statement verb, or lowercase word
    followed by a word that follows verbs ("uses the", "met to")."""
    first = 0
    while first < len(words) and words[first].key in _OPENERS:
        first += 1
    if first and first < len(words) and words[first].text == ",":
        first += 1  # "Previously, the Bush administration …"
    elif first < len(words) and words[first].key in _INTRODUCERS:
        # "In Moscow, officials met …": the clause starts after the opening phrase.
        comma = next(
            (i for i in range(first, min(first + 6, len(words))) if words[i].text == ","), None
        )
        first = first if comma is None else comma + 1
    for index in range(first + 1, min(first + 7, len(words))):
        word = words[index]
        if word.text in _PUNCTUATION:
            return None
        following = words[index + 1] if index + 1 < len(words) else None
        verb_like = (
            word.key in _AUXILIARIES
            or _adverb(word)
            or word.key in rules.verbs
            or word.key in rules.statement_verbs
            or _past_after_noun(words, index)
            or (
                word.text.islower()
                and word.key not in _DETERMINERS
                and following is not None
                and following.key != "of"
                and (following.key in _AFTER_VERB or following.text[:1].isupper())
            )
        )
        if verb_like:
            found = _phrase(sentence, words, first, index - 1, rules, True)
            return None if found is None else found[0]
    return None


def _past_after_noun(words: list[Word], index: int) -> bool:
    """A lowercase "-ed" word after a word that is no determiner: a verb in the
    past ("The protesters marched"), not an adjective ("The elected officials")."""
    word = words[index]
    return (
        len(word.key) > 4
        and word.key.endswith("ed")
        and word.text.islower()
        and words[index - 1].key not in _DETERMINERS
        and words[index - 1].key not in _NOT_LAST
    )


def _name_before_comma(sentence: str, words: list[Word], comma: int) -> Attribution | None:
    """A capitalised name of two to four words ending right before ``comma``
    and opening the sentence."""
    start = comma - 1
    while start > 0 and words[start - 1].text[:1].isupper() and comma - start < 4:
        start -= 1
    run = words[start:comma]
    if start != 0 or not 2 <= len(run) <= 4 or not all(w.text[:1].isupper() for w in run):
        return None
    if any(w.key in _OPENERS for w in run):
        return None
    start, end = run[0].start, run[-1].end
    return Attribution(sentence[start:end], start, end, person=True)


def _adverb(word: Word) -> bool:
    return len(word.key) > 4 and word.key.endswith("ly") and word.text.islower()


def _clause_start(words: list[Word], last: int) -> int:
    """Index of the first word of the phrase ending at ``last``: after the
    nearest comma, semicolon or colon before it, or the sentence's start."""
    first = last
    while first > 0 and words[first - 1].text not in (",", ";", ":", "—", "–", "(", ")"):
        first -= 1
    return first


def _phrase(
    sentence: str, words: list[Word], first: int, last: int, rules: SpeechRules, main: bool
) -> tuple[Attribution, bool] | None:
    while first <= last and words[first].key in _OPENERS:
        first += 1
    if first == 0 and first < last and words[first].key in _SUBORDINATORS:
        first, main = 1, False  # "After President Trump suggested …, …": an opening clause
    if first > last or last - first + 1 > _MAX_WORDS:
        return None
    run = words[first : last + 1]
    if run[0].key in rules.place_prepositions or run[0].key in rules.member_prepositions:
        return None  # a prepositional phrase ("Об этом", "In Moscow") is no subject
    if any(w.key in _CLAUSE_WORDS or w.key in rules.clause_words for w in run):
        return None
    if any(w.text in _PUNCTUATION for w in run):
        return None
    if words[first].key in _INTRODUCERS and words[first].text[:1].isupper() and first == 0:
        return None  # "In Moscow said" is no subject; the clause starts later
    if len(run) == 1 and run[0].key in rules.pronouns:
        word = run[0]
        return Attribution(word.text, word.start, word.end, pronoun=word.key), main
    if len(run) == 1 and run[0].key in _DETERMINERS:
        return None
    if not any(w.text[:1].isalpha() for w in run):
        return None
    if any(w.key.removesuffix("’s").removesuffix("'s") in rules.conduits for w in run):
        return None  # a reporter or a medium reporting: a conduit, not a speaker
    start, end = run[0].start, run[-1].end
    name = sentence[start:end]
    if name.endswith(".") and len(run[-1].text) > 2:  # "SK hynix Inc." → "SK hynix Inc"
        name, end = name[:-1], end - 1
    if name.endswith(("’s", "'s")):
        return None  # an owner, not a subject
    return Attribution(name, start, end, **_description(run, rules)), main


def _description(run: list[Word], rules: SpeechRules) -> dict[str, Any]:
    """For "The President", "Its founder", "the federal Member of Parliament":
    the title, for the caller to resolve to the person named before it."""
    if len(run) == 2 and run[0].key in rules.pair_words and run[1].key in rules.pair_nouns:
        return {"role": PAIR_ROLE, "person": True}  # "Both sides", "Both leaders"
    if len(run) > 5 or run[0].key not in rules.describers:
        return {}
    if len(run) == 3 and run[1].key in rules.pair_words and run[2].key in rules.pair_nouns:
        return {"role": PAIR_ROLE, "person": True}  # "The two leaders"
    titles = [w.key for w in run[1:3] if w.key in rules.titles or w.key in _PERSON_NOUNS]
    if titles:
        return {"role": titles[0], "person": True}
    if len(run) == 2 and (run[1].key in rules.institutions or run[1].key in rules.companies):
        return {"role": run[1].key}  # "The newspaper": the one named before
    return {}


#: Nouns that describe a person named before ("its founder").
_PERSON_NOUNS = frozenset({"founder", "member", "lecturer", "woman", "man", "politician"})


def _apposed(
    sentence: str, words: list[Word], comma: int, rules: SpeechRules
) -> tuple[Attribution, bool] | None:
    """ "Luciano Joaquim, 47, a resident of …, said": the phrase before the
    apposition — the sentence's first comma-separated phrase, or its second
    when the first is an opening phrase ("On Sunday, Ana Lima, …, said")."""
    commas = [i for i in range(comma) if words[i].text == ","]
    starts = [0, *(i + 1 for i in commas)]
    for number, start in enumerate(starts[:2]):
        end = (commas[number] if number < len(commas) else comma) - 1
        if end < start:
            return None
        opener = words[start].key
        if number == 0 and (opener in _INTRODUCERS or opener in _OPENERS):
            continue  # an opening phrase
        if number == 0 and all(w.key in rules.fillers for w in words[start : end + 1]):
            if not commas:  # "Además, señaló que …": no subject written (Spanish
                # drops it); whoever spoke last, as for a pronoun
                return Attribution(opener, words[0].start, words[0].end, pronoun=opener), True
            continue  # an opening adverb in the language's own words ("Además, …")
        return _phrase(sentence, words, start, end, rules, True)
    return None
