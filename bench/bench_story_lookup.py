"""The story decisions alone: what one candidate alert costs against a full state.

The alerts process's largest single cost on the alert-dense corpus is the story
look-up: each candidate is compared with its rule's newest stories
(``dedup.max_candidates``, 300). This drives :class:`StoryState` directly, in
memory, with candidates built from ``bench/corpus.py`` articles (three
statements each, spread over five rules as the shipped rules spread them), so
the look-up can be measured without Kafka or the NLP stage.

Baseline in the same run: the same decisions with ``max_candidates`` 0, so
that no story is compared (what the decisions cost without the look-up).

Then the look-ups scored ahead, as the story stage does for each batch it
polls (``--batch`` candidates, :meth:`StoryState.scores_ahead`): the time the
scoring ahead takes (RapidFuzz ``cdist``, which releases the GIL, so the
process's other threads run meanwhile), the time the decisions then take
(holding the GIL), and the CPU time of both, per candidate.

Usage::

    .venv/bin/python bench/bench_story_lookup.py [--similarity 100] [--candidates 6000]
        [--batch 250]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus import articles  # noqa: E402
from monitor.alerts.state import StoryState  # noqa: E402
from monitor.alerts.story import Policy  # noqa: E402
from monitor.messages import Alert, ArticleRef, Statement  # noqa: E402

RULES = ("r1", "r2", "r3", "r4", "r5")
#: Which lines of a corpus article are alert-worthy, and which rules each raises.
LINES_AND_RULES = ((0, RULES[:2]), (2, RULES[1:4]), (3, RULES[3:4]))


def candidates(count: int) -> list[Alert]:
    """``count`` candidate alerts from unique corpus articles, in article order."""
    found: list[Alert] = []
    for article in articles(count, seed=1):
        ref = ArticleRef(id=article.id, url=article.url, title=article.title, feed_id="bench",
                         sources=article.sources, published=None)
        lines = article.text.splitlines()
        for line_no, rules in LINES_AND_RULES:
            text = lines[line_no]
            statement = Statement(text=text, start=0, end=len(text), tags=("election",),
                                  speaker=None, entities=())
            found.extend(Alert(id=f"{rule}-{article.id}-{line_no}", rule=rule, severity="high",
                               statement=statement, article=ref, matches=(),
                               created_at="2024-08-13T08:00:00Z") for rule in rules)
            if len(found) >= count:
                return found[:count]
    return found


def per_candidate_us(state: StoryState, timed: list[Alert], policy: Policy, now: float) -> float:
    started = time.perf_counter()
    for candidate in timed:
        now += 0.001
        state.decide_and_record(candidate, now, policy)
    return (time.perf_counter() - started) / len(timed) * 1e6


def scored_ahead_us(state: StoryState, timed: list[Alert], policy: Policy, now: float,
                    batch: int) -> dict[str, float]:
    """Per candidate: µs scoring ahead, µs deciding with those scores, µs of CPU."""
    ahead = deciding = 0.0
    cpu = time.process_time()
    for start in range(0, len(timed), batch):
        chunk = timed[start:start + batch]
        began = time.perf_counter()
        scores = state.scores_ahead(chunk, now, lambda _rule: policy)
        scored = time.perf_counter()
        for candidate in chunk:
            now += 0.001
            state.decide_and_record(candidate, now, policy, (), scores)
        ahead += scored - began
        deciding += time.perf_counter() - scored
    cpu = time.process_time() - cpu
    return {name: round(spent / len(timed) * 1e6, 1)
            for name, spent in (("ahead", ahead), ("deciding", deciding), ("cpu", cpu))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--similarity", type=float, default=100.0,
                        help="dedup.similarity (the pipeline bench uses 100; the default is 88)")
    parser.add_argument("--max-candidates", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=6000, help="timed candidates")
    parser.add_argument("--batch", type=int, default=250,
                        help="candidates scored ahead together (a polled batch's)")
    args = parser.parse_args()
    policy = Policy(story_window_s=6 * 3600.0, similarity=args.similarity,
                    repeat_window_s=7 * 86400.0, rate_limit_count=1_000_000,
                    rate_limit_per_s=1.0, max_candidates=args.max_candidates)
    warm_count = args.max_candidates * len(RULES) * 2  # every rule's look-up is full
    everything = candidates(warm_count + args.candidates)
    warm, timed = everything[:warm_count], everything[warm_count:]
    results = []
    for compared in (0, args.max_candidates):
        measured = dataclasses.replace(policy, max_candidates=compared)
        state = StoryState()
        per_candidate_us(state, warm, measured, 1000.0)
        results.append(per_candidate_us(state, timed, measured, 2000.0))
    bare_us, full_us = results
    state = StoryState()
    per_candidate_us(state, warm, policy, 1000.0)
    ahead = scored_ahead_us(state, timed, policy, 2000.0, args.batch)
    print(json.dumps({
        "similarity": args.similarity,
        "max_candidates": args.max_candidates,
        "no_look_up_us_per_candidate": round(bare_us, 1),
        "look_up_us_per_candidate": round(full_us, 1),
        "look_up_vs_none": round(full_us / bare_us, 1),
        "scored_ahead_us_per_candidate": ahead,
        "deciding_vs_look_up": round(ahead["deciding"] / full_us, 2),
        "cpu_vs_look_up": round(ahead["cpu"] / full_us, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
