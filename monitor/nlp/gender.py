"""Which person a "he" or a "she" can stand for.

Pure functions of the text before the pronoun and the gender words of
``config/nlp/speech.yaml`` (``female_words``, ``male_words``): titles and
nouns that tell a person's gender when they come right before the name
("Ms. Tymoshenko", "Cohen's mother, Ruth", "spokeswoman Hua Chunying"), and
"named X", which introduces a person of either gender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FEMALE = "female"
MALE = "male"
PRONOUN_GENDER = {"she": FEMALE, "he": MALE}

_NAME = r"([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+){0,2})"


@dataclass(frozen=True, slots=True)
class GenderWords:
    """The gender words, as sets and as "word [,] [named] Name" patterns."""

    female_words: frozenset[str]
    male_words: frozenset[str]
    female: re.Pattern[str]
    male: re.Pattern[str]
    named: re.Pattern[str]

    @classmethod
    def from_words(cls, female: tuple[str, ...], male: tuple[str, ...]) -> GenderWords:
        return cls(
            frozenset(w.lower() for w in female),
            frozenset(w.lower() for w in male),
            _cue(female),
            _cue(male),
            re.compile(rf"\b(?:named|called)\s+{_NAME}"),
        )

    def title_gender(self, before: str) -> str | None:
        """The gender told by the word right before a name ("… Ms. " → female)."""
        words = before[-32:].split()
        if not words:
            return None
        key = words[-1].lower().strip(".,")
        if key in self.female_words:
            return FEMALE
        if key in self.male_words:
            return MALE
        return None

    def last_mention(self, earlier: str, gender: str) -> tuple[int, str] | None:
        """The last name in ``earlier`` introduced by a word of ``gender`` or by
        "named": (its offset, the name)."""
        cue = self.female if gender == FEMALE else self.male
        best: tuple[int, str] | None = None
        for pattern in (cue, self.named):
            for match in pattern.finditer(earlier):
                if best is None or match.start(1) > best[0]:
                    best = (match.start(1), match.group(1))
        return best


def _cue(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)"
    return re.compile(rf"\b(?i:{alternatives})\.?,?\s+(?:named\s+)?{_NAME}")
