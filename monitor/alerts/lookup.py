"""Scoring a candidate's words against stories' words: one at a time, or a batch at once.

The story look-up (:func:`monitor.alerts.story.find_story`) asks a
:data:`Lookup` for the token-set similarity of one candidate's word set with
each of its comparable stories' word sets, keeping those at or above a
cutoff. :func:`plain_lookup` scores them there and then, holding the GIL.

:class:`BatchScores` is the same answer computed ahead: before a batch of
candidates is decided, :meth:`BatchScores.add` scores each of them against
the stories it is likely to be compared with, including the stories the
batch's earlier candidates will start, in one RapidFuzz ``cdist`` call, which
runs without holding the GIL, so the process's other threads (rule matching,
delivery, Kafka's I/O) run meanwhile, and on every core
(:data:`SCORING_WORKERS`). A score is a function of the two word
sets alone, so an answer read from the batch is the answer
:func:`plain_lookup` gives; any pair the batch did not score is scored then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

#: ``(query, choices, cutoff)`` → ``(score, index in choices)`` for every choice whose
#: token-set similarity with ``query`` is at least ``cutoff`` (> 0), in choice order.
Lookup = Callable[[str, Sequence[str], float], list[tuple[float, int]]]

#: Threads one batch's scoring is split over (RapidFuzz's ``workers``): -1, every
#: core. The story decisions are the one stage a second process cannot share, so
#: their scoring may use the cores the process's other stages leave idle.
SCORING_WORKERS = -1


def plain_lookup(query: str, choices: Sequence[str], cutoff: float) -> list[tuple[float, int]]:
    """Score ``query`` against every choice now (one C call, holding the GIL)."""
    scored = process.extract(query, choices, scorer=fuzz.token_set_ratio, score_cutoff=cutoff,
                             limit=None)
    return sorted(((float(score), index) for _, score, index in scored), key=_by_index)


class BatchScores:
    """Scores computed ahead for a batch's queries; a :data:`Lookup`.

    Not thread-safe: one stage thread fills and reads it, then drops it.
    """

    def __init__(self) -> None:
        #: query → (choice → score for the choices at or above the cutoff, every
        #: choice it was scored against, the cutoff).
        self._rows: dict[str, tuple[dict[str, float], frozenset[str], float]] = {}
        #: Pairs scored when asked, because they were not scored ahead.
        self.scored_late = 0

    def add(self, queries: Sequence[str], choices: Sequence[str], cutoff: float) -> None:
        """Score each of ``queries`` against all of ``choices`` in one call that
        releases the GIL. A query added again at the same cutoff (one statement
        raises several rules) keeps its earlier scores too; at another, only the new."""
        asked = list(dict.fromkeys(queries))
        if not asked or not choices:
            return
        matrix = process.cdist(asked, choices, scorer=fuzz.token_set_ratio,
                               score_cutoff=cutoff, dtype=np.float64,
                               workers=SCORING_WORKERS)
        # Pairs that reach the cutoff are picked out in C, not row by row here.
        rows, columns = np.nonzero(matrix >= cutoff)
        hits: list[dict[str, float]] = [{} for _ in asked]
        for row, column, score in zip(rows.tolist(), columns.tolist(),
                                      matrix[rows, columns].tolist(), strict=True):
            hits[row][choices[column]] = score
        scored = frozenset(choices)
        for query, found in zip(asked, hits, strict=True):
            earlier = self._rows.get(query)
            if earlier is not None and earlier[2] == cutoff:
                self._rows[query] = (earlier[0] | found, earlier[1] | scored, cutoff)
            else:
                self._rows[query] = (found, scored, cutoff)

    def __len__(self) -> int:
        """How many queries have scores."""
        return len(self._rows)

    def __call__(self, query: str, choices: Sequence[str], cutoff: float
                 ) -> list[tuple[float, int]]:
        known = self._rows.get(query)
        if known is None or known[2] != cutoff:
            self.scored_late += len(choices)
            return plain_lookup(query, choices, cutoff)
        hits, scored, _ = known
        if scored.issuperset(choices):
            # Every choice scored (the usual case): at a high cutoff most queries have
            # no hit, and the check above ran in C, so only the hits' places are sought.
            if not hits:
                return []
            return [(hits[choice], index) for index, choice in enumerate(choices)
                    if choice in hits]
        found: list[tuple[float, int]] = []
        unscored: list[int] = []
        for index, choice in enumerate(choices):
            if choice not in scored:
                unscored.append(index)
            elif choice in hits:
                found.append((hits[choice], index))
        if unscored:
            self.scored_late += len(unscored)
            rest = plain_lookup(query, [choices[i] for i in unscored], cutoff)
            found.extend((score, unscored[i]) for score, i in rest)
            found.sort(key=_by_index)
        return found


def _by_index(scored: tuple[float, int]) -> int:
    return scored[1]
