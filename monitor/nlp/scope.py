"""Whose election a sentence is about, and which vote an interference cue acts on.

Pure functions of the document text and one sentence's entities and cue hits;
the word lists are data in ``cues.yaml``.

* **Home states.** A state named right before a ``home_after`` word ("Kenya's
  election", "the Hungarian opposition", "India's election commission"; one
  word may sit between: "Kenya's presidential election"), or right after
  "<``home_before`` word> in" ("the election in Kenya"), is the country whose
  politics the sentence is about, so it is not a foreign actor: "The ruling
  party spread disinformation ahead of Kenya's election" names no foreign
  state. States coordinated with a home state are home too ("elections in
  Kenya and Uganda", "Kenyan and Ugandan voters"). A home word that an
  interference cue covers or directly follows ("Russian election
  interference", "Chinese election disinformation") does not count.
* **Targeted votes.** A weak election cue listed in ``targets`` that an
  interference cue acts on ("interference in the vote", "interfered in
  Moldova's vote", "sway the vote") counts as a strong election cue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from monitor.nlp.lexicon import Cues
from monitor.nlp.rules import ELECTION, INTERFERENCE, INTERFERENCE_WEAK, Hit
from monitor.nlp.terms import EntityHit

_INTERFERENCE_KINDS = frozenset({INTERFERENCE, INTERFERENCE_WEAK})
#: How far before a state "<home_before word> in" may start.
_BEFORE_REACH = 40
#: What joins coordinated states: "Kenya and Uganda", "Kenya, Uganda".
_LOCATIVE = re.compile(r"\bin\s+$")
#: A place denied: "decided in our villages, not in Beijing" names a foreign actor.
_DENIED_PLACE = re.compile(r"\bnot\s+in\s+$")
_COORDINATION = re.compile(r"\s*(?:,|,?\s+(?:and|or)|&)\s+")


def _compile(template: str, words: tuple[str, ...]) -> re.Pattern[str] | None:
    """``template`` with ``{words}`` replaced by a case-insensitive alternation
    of ``words`` (longest first); None when there are no words."""
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(template.replace("{words}", f"(?i:{alternation})"))


#: After a state: "'s", at most one word, then the home word.
_HOME_AFTER = r"(?:['’]s)?\s+(?:[\w'’-]+\s+)?(?P<word>{words})\b"
#: Before a state: the home word, "in", maybe "the".
_HOME_BEFORE = r"\b{words}\s+in\s+(?:the\s+)?$"
#: After an interference cue: maybe a preposition, a determiner or a name
#: ("Moldova's"), a lowercase modifier ("presidential"), then the vote. The
#: little words may be capitalised, as in headlines ("Interfering In Taiwan Vote").
_TARGET = (
    r"\s+(?:(?i:in|into|with|on)\s+)?"
    r"(?:(?:(?i:the|a|an|this|that|its|their|his|her)|[A-Z][\w.’'-]*)\s+)?"
    r"(?:[a-z][\w-]*\s+)?(?P<word>{words})\b"
)


@dataclass(frozen=True, slots=True)
class ScopeRules:
    """Compiled home-state and targeted-vote patterns; ``None`` = rule off."""

    home_after: re.Pattern[str] | None = None
    home_before: re.Pattern[str] | None = None
    targets: re.Pattern[str] | None = None

    @classmethod
    def from_cues(cls, cues: Cues) -> ScopeRules:
        """Build the patterns from the ``cues.yaml`` word lists."""
        interference = cues.foreign_interference
        return cls(
            home_after=_compile(_HOME_AFTER, interference.home_after),
            home_before=_compile(_HOME_BEFORE, interference.home_before),
            targets=_compile(_TARGET, cues.election.targets),
        )

    def home_states(
        self,
        document: str,
        bounds: tuple[int, int],
        entities: Sequence[EntityHit],
        hits: Sequence[Hit],
        places: bool = True,
    ) -> frozenset[str]:
        """The countries of ``entities`` that are the home states of the sentence
        ``document[bounds[0]:bounds[1]]`` (see module doc); nothing outside it is read.
        ``places=False`` leaves out the weakest evidence, a lone state named as a
        place ("believed to be in Iran"), which says nothing beyond its sentence."""
        states = [e for e in entities if e.country is not None]
        if not states:
            return frozenset()
        home = [
            self._home_after(document, bounds[1], e, hits)
            or self._home_before(document, bounds[0], e)
            for e in states
        ]
        if (
            places
            and self.home_before is not None
            and len({e.country for e in states}) == 1
            and _LOCATIVE.search(document, max(bounds[0], states[0].start - 4), states[0].start)
            and not _DENIED_PLACE.search(
                document, max(bounds[0], states[0].start - 8), states[0].start
            )
        ):
            # The one state named, and named as a place ("… food programs in
            # Venezuela"), is where the politics happen, not a foreign actor.
            home = [True] * len(states)
        _spread_over_coordination(document, states, home)
        return frozenset(
            e.country for e, is_home in zip(states, home, strict=True) if is_home and e.country
        )

    def _home_after(self, document: str, end: int, entity: EntityHit, hits: Sequence[Hit]) -> bool:
        """Whether a home word follows ``entity`` (before ``end``) that no
        interference cue in ``hits`` covers or directly follows."""
        if self.home_after is None:
            return False
        match = self.home_after.match(document, entity.end, end)
        if match is None:
            return False
        first, last = match.span("word")
        return not any(
            h.kind in _INTERFERENCE_KINDS
            and (
                (h.start <= first and last <= h.end)
                or (last < h.start and not document[last : h.start].strip())
            )
            for h in hits
        )

    def _home_before(self, document: str, start: int, entity: EntityHit) -> bool:
        if self.home_before is None:
            return False
        window = document[max(start, entity.start - _BEFORE_REACH) : entity.start]
        # A match of ``_HOME_BEFORE`` ends with "in" or "the" and then only
        # whitespace (``\s`` is ``str.isspace``, what ``rstrip`` strips, and
        # ``$`` may stop before a final "\n"): most windows fail this cheap test.
        if not window.rstrip().endswith(("in", "the")):
            return False
        return self.home_before.search(window) is not None

    def targeted_votes(self, document: str, end: int, hits: Sequence[Hit]) -> list[Hit]:
        """Strong election hits for the ``targets`` words an interference cue in
        ``hits`` acts on, up to ``end`` (the end of the sentence)."""
        if self.targets is None:
            return []
        found = []
        for hit in hits:
            if hit.kind in _INTERFERENCE_KINDS:
                match = self.targets.match(document, hit.end, end)
                if match is not None:
                    found.append(Hit(ELECTION, *match.span("word")))
        return found


def _spread_over_coordination(document: str, states: Sequence[EntityHit], home: list[bool]) -> None:
    """Mark states joined by "and"/","/"or" to a home state as home, in place."""
    if len(states) < 2 or not any(home):
        return  # only a home state spreads, and only to another state
    joined = [
        _COORDINATION.fullmatch(document, a.end, b.start) is not None for a, b in pairwise(states)
    ]
    for index in list(range(len(joined))) + list(reversed(range(len(joined)))):
        if joined[index] and (home[index] or home[index + 1]):
            home[index] = home[index + 1] = True
