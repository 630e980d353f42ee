"""Speakers' names in their dictionary form, for inflected languages.

Russian names a speaker in whatever case the sentence needs: "по словам
Дмитрия Пескова" (genitive), "интервью посла Джона Салливана". A reader, an
alert rule and a scorer all compare names in the nominative ("Дмитрий
Песков"), so a lexicon may ask (``speaker_case: nominative`` in
``speech.yaml``) for every speaker to be given in it. pymorphy3 does the
morphology; its dictionaries decide which words are first names, patronymics
and surnames, and in which case and gender they stand.

The contract: a speaker holding a personal name in an oblique case becomes
that name in the nominative ("пресс-секретаря Кремля Дмитрия Пескова" →
"Дмитрий Песков"); a lone surname is rewritten only when the dictionary reads
it first as a surname in an oblique case ("Пескова" → "Песков"); anything
else is returned as written.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from monitor.errors import ConfigError, ConfigProblem

#: Grammemes of words that make up a person's name.
_NAME_PARTS = frozenset({"Name", "Patr", "Surn"})
#: Cases a name is rewritten from.
_OBLIQUE = frozenset({"gent", "datv", "accs", "ablt", "loct"})
#: Languages pymorphy3 ships dictionaries for (as pip packages).
_DICTIONARIES = {"ru": "pymorphy3_dicts_ru"}


def nominative_names(language: str) -> Callable[[str], str]:
    """A function giving a speaker in the nominative, for ``language``.

    Raises :class:`~monitor.errors.ConfigError` when the language has no
    morphological dictionary (``speaker_case: nominative`` cannot apply).
    """
    if language not in _DICTIONARIES:
        problem = ConfigProblem(
            f"config/nlp/{language}/speech.yaml",
            "speaker_case",
            f"'nominative' needs a pymorphy3 dictionary; none for language {language!r}",
        )
        raise ConfigError([problem])
    import pymorphy3  # a dictionary load (~60 ms): only for languages that ask

    analyzer = pymorphy3.MorphAnalyzer(lang=language)
    return lru_cache(maxsize=4096)(lambda speaker: _nominative(analyzer, speaker))


def _nominative(analyzer: Any, speaker: str) -> str:
    words = speaker.split()
    for index, word in enumerate(words):
        if not word[:1].isupper():
            continue
        first = _best(analyzer, word, lambda tag: "Name" in tag and "sing" in tag)
        if first is None:
            continue
        if first.tag.case not in _OBLIQUE:
            return speaker  # named in the nominative already
        return _name_run(analyzer, words[index:], first.tag.case, first.tag.gender) or speaker
    return _lone_surname(analyzer, words) or speaker


def _name_run(analyzer: Any, words: list[str], case: str, gender: str | None) -> str | None:
    """The capitalised words from a first name on, each put in the nominative."""
    run: list[str] = []
    for word in words:
        if not word[:1].isupper():
            break
        parse = _best(
            analyzer,
            word,
            lambda tag: (
                tag.case == case
                and "sing" in tag
                and (gender is None or tag.gender in (gender, None))
            ),
        )
        # A surname the dictionary does not know as one ("Помпео", indeclinable)
        # stays as written.
        run.append(word if parse is None or "Fixd" in parse.tag else _inflected(parse, word))
    return " ".join(run) if run else None


def _lone_surname(analyzer: Any, words: list[str]) -> str | None:
    if len(words) != 1 or not words[0][:1].isupper():
        return None
    top = analyzer.parse(words[0])[0]
    if "Surn" not in top.tag or top.tag.case not in _OBLIQUE:
        return None
    return _inflected(top, words[0])


def _best(analyzer: Any, word: str, test: Callable[[Any], bool]) -> Any | None:
    """The likeliest reading of ``word`` as part of a name that passes ``test``."""
    for parse in analyzer.parse(word):
        if _NAME_PARTS & set(parse.tag.grammemes) and test(parse.tag):
            return parse
    return None


def _inflected(parse: Any, written: str) -> str:
    form = parse.inflect({"nomn"})
    if form is None:
        return written
    word: str = form.word
    return word[:1].upper() + word[1:] if written[:1].isupper() else word
