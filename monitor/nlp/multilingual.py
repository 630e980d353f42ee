"""Tagging in several languages: identify the article's language, then tag it
with that language's lexicon, or only split it when none is configured.

:class:`MultilingualTagger` is what the NLP role and ``monitor tag`` use. Each
tagged language has its own :class:`~monitor.nlp.tagger.Tagger` (its lexicon
folder, ``spacy.blank(language)``), built once. An article in any other
language is split into statements with no tag, speaker or entity — never
tagged with another language's rules — and its result says which language it
is, so that the caller can count it.
"""

from __future__ import annotations

import pathlib

from monitor.nlp.language import LanguageIdentifier
from monitor.nlp.result import TagResult
from monitor.nlp.settings import NlpSettings
from monitor.nlp.tagger import Tagger


class MultilingualTagger:
    """Tags articles in every configured language."""

    def __init__(self, identifier: LanguageIdentifier, taggers: dict[str, Tagger]) -> None:
        self._identifier = identifier
        self._taggers = taggers

    @classmethod
    def from_settings(cls, settings: NlpSettings, config_dir: pathlib.Path) -> MultilingualTagger:
        """One tagger per tagged language (English and ``settings.lexicons``).

        Raises :class:`~monitor.errors.ConfigError` as :meth:`Tagger.from_settings` does.
        """
        languages = ("en", *sorted(settings.lexicons))
        taggers = {lang: Tagger.from_settings(settings, config_dir, lang) for lang in languages}
        return cls(LanguageIdentifier(settings.language_candidates), taggers)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages tagged."""
        return tuple(self._taggers)

    @property
    def english(self) -> Tagger:
        return self._taggers["en"]

    def identify(self, text: str, hint: str | None = None) -> str:
        """The language of ``text`` (``hint``: what its feed declares)."""
        return self._identifier.identify(text, hint).code

    def tag(self, text: str, author: str | None = None, language: str | None = None) -> TagResult:
        """Tag one article; ``language`` is its feed's declared language, a hint."""
        code = self.identify(text, language)
        tagger = self._taggers.get(code)
        if tagger is None:
            return self.english.untagged(text, code)
        return tagger.tag(text, author)
