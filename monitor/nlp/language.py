"""Which language an article is written in.

:class:`LanguageIdentifier` answers with an ISO 639-1 code. The text's own
evidence decides; the feed's declared language is a hint that wins only when
the text says little (a headline, a caption) and the hint is among the
identifier's close candidates:

1. a cheap first test: running English prose is recognised by its function
   words ("the", "and", "of" …), so most English articles never reach the
   model;
2. otherwise py3langid's model (offline, shipped in the package), restricted
   to the configured candidate languages, reads the first
   ``sample_chars`` characters of the text (on the real dev sets the first
   300 characters decide as well as the whole text: see
   ``docs/nlp-quality.md``).

The model is loaded once per identifier; identifying is a pure function of
the text and the hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from py3langid.langid import MODEL_FILE
from py3langid.langid import LanguageIdentifier as _Model

from monitor.errors import ConfigError, ConfigProblem

_WORD = re.compile(r"[^\W\d_]+")
#: Function words of English prose; ≥ ``_ENGLISH_SHARE`` of the first words
#: being these is English beyond doubt.
_ENGLISH_WORDS = frozenset(
    {"the", "and", "of", "to", "that", "with", "was", "were", "has", "have", "said", "for",
     "this", "from", "by", "its", "their", "will", "would", "which", "it", "he", "she",
     "they", "been", "after", "before", "but", "not", "his", "her", "who", "than", "more",
     "at"}
)  # fmt: skip
#: On the real dev sets English prose has ≥ 12 % of these among its first 80
#: words, Spanish and Russian ≤ 5 %; words shared with Dutch, German or the
#: Romance languages ("is", "in", "a", "an", "over") are left out.
_ENGLISH_SHARE = 0.1
_FIRST_WORDS = 80
#: With fewer words the text says nothing: the hint decides, else English.
_FEWEST_WORDS = 3
#: Below this probability the text's evidence is weak and a hint may decide.
_SURE = 0.9


@dataclass(frozen=True, slots=True)
class Identified:
    """A language and where the answer came from."""

    code: str
    #: "words" (the English first test), "text" (the model), "hint", or
    #: "default" (too little text, no hint: English).
    source: str


class LanguageIdentifier:
    """Identifies an article's language among ``candidates``."""

    def __init__(self, candidates: tuple[str, ...], sample_chars: int = 300) -> None:
        self._model = _Model.from_model_file(MODEL_FILE, norm_probs=True)
        unknown = sorted(set(candidates) - set(self._model.nb_classes))
        if unknown:
            problem = ConfigProblem(
                "monitor.yaml", "nlp.language_candidates", f"unknown languages: {unknown}"
            )
            raise ConfigError([problem])
        self._model.set_languages(list(candidates))
        self._candidates = frozenset(candidates)
        self._sample = sample_chars

    def identify(self, text: str, hint: str | None = None) -> Identified:
        """The language of ``text``; ``hint`` is what its feed declares ("es",
        "en-US", "ru_RU"), if anything."""
        declared = _primary(hint)
        if _reads_as_english(text):
            return Identified("en", "words")
        sample = text[: self._sample]
        if len(_WORD.findall(sample)) < _FEWEST_WORDS:  # too little text to tell
            return Identified(declared or "en", "hint" if declared else "default")
        ranked = self._model.rank(sample)
        code, probability = ranked[0]
        if declared in self._candidates and declared != code and probability < _SURE:
            close = {c for c, p in ranked[:3] if p > 0.05}
            if declared in close:
                return Identified(declared, "hint")
        return Identified(str(code), "text")


def _primary(tag: str | None) -> str | None:
    """The primary language subtag of a declared language: "en-US" → "en"."""
    if not tag:
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return primary if len(primary) in (2, 3) and primary.isalpha() else None


def _reads_as_english(text: str) -> bool:
    """Whether the text's first words are English prose beyond doubt."""
    words = text[:800].lower().split()[:_FIRST_WORDS]  # (a word with a comma does not count)
    if len(words) < 12:
        return False
    return sum(1 for w in words if w in _ENGLISH_WORDS) / len(words) >= _ENGLISH_SHARE
