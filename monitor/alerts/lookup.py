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
delivery, Kafka's I/O) run meanwhile. A score is a function of the two word
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
        #: query → (its row of scores, choice → column, the cutoff it was scored at).
        self._rows: dict[str, tuple[list[float], dict[str, int], float]] = {}

    def add(self, queries: Sequence[str], choices: Sequence[str], cutoff: float) -> None:
        """Score each of ``queries`` against all of ``choices`` in one call that
        releases the GIL; a query added again keeps its first scores."""
        fresh = [q for q in dict.fromkeys(queries) if q not in self._rows]
        if not fresh or not choices:
            return
        columns = {choice: column for column, choice in enumerate(choices)}
        matrix = process.cdist(fresh, choices, scorer=fuzz.token_set_ratio,
                               score_cutoff=cutoff, dtype=np.float64)
        for query, row in zip(fresh, matrix.tolist(), strict=True):
            self._rows[query] = (row, columns, cutoff)

    def __len__(self) -> int:
        """How many queries have scores."""
        return len(self._rows)

    def __call__(self, query: str, choices: Sequence[str], cutoff: float
                 ) -> list[tuple[float, int]]:
        known = self._rows.get(query)
        if known is None or known[2] != cutoff:
            return plain_lookup(query, choices, cutoff)
        row, columns, _ = known
        found: list[tuple[float, int]] = []
        unscored: list[int] = []
        for index, choice in enumerate(choices):
            column = columns.get(choice)
            if column is None:
                unscored.append(index)
            elif row[column] >= cutoff:
                found.append((row[column], index))
        if unscored:
            rest = plain_lookup(query, [choices[i] for i in unscored], cutoff)
            found.extend((score, unscored[i]) for score, i in rest)
            found.sort(key=_by_index)
        return found


def _by_index(scored: tuple[float, int]) -> int:
    return scored[1]
