"""The story decisions alone: what one candidate alert costs against a full state.

The alerts process's largest single cost on the alert-dense corpus is the story
look-up: each candidate is compared with its rule's newest stories
(``dedup.max_candidates``, 300). This drives :class:`StoryState` directly, in
memory, with candidates built from ``bench/corpus.py`` articles (three
statements each, spread over five rules as the shipped rules spread them), so
the look-up can be measured without Kafka or the NLP stage.

Baseline in the same run: the same decisions with ``max_candidates`` 0, so
that no story is compared (what the decisions cost without the look-up).

Usage::

    .venv/bin/python bench/bench_story_lookup.py [--similarity 100] [--candidates 6000]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--similarity", type=float, default=100.0,
                        help="dedup.similarity (the pipeline bench uses 100; the default is 88)")
    parser.add_argument("--max-candidates", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=6000, help="timed candidates")
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
    print(json.dumps({
        "similarity": args.similarity,
        "max_candidates": args.max_candidates,
        "no_look_up_us_per_candidate": round(bare_us, 1),
        "look_up_us_per_candidate": round(full_us, 1),
        "look_up_vs_none": round(full_us / bare_us, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
