"""Benchmark of the NLP stage: ``python bench/bench_nlp.py``.

Measures, in one run and on the same generated corpus:

1. articles/s of ``monitor tag --jsonl``-equivalent work (tag + the JSON line
   ``monitor tag`` writes) versus spaCy's bare tokenizer
   (``spacy.blank("en").tokenizer``), on election-dense articles (goal ≥ 1×)
   and on a realistic mix where one article in ten is relevant (goal ≥ 3×);
   both warmed on the corpus, and, for the mix, also cold: a new tokenizer's
   and a new tagger's first pass;
2. where the mix's time goes: its relevant and its neutral articles apart
   (µs per article, tag and bare tokenizer);
3. the same tagging work spread over 2 worker processes versus 1 (goal ≥ 1.7×);
4. Spanish and Russian articles (``tests/fixtures/nlp/bench-{es,ru}.txt``)
   through the multilingual tagger (language identification, then the
   language's own lexicon) versus ``spacy.blank(lang)``'s bare tokenizer, and
   what identifying the language costs per article.

The corpus is built, with a fixed seed, from sentences written for this
project: relevant sentences come from the labelled dev set, the rest from
``tests/fixtures/nlp/bench-neutral.txt``. Each timing is the best of
``--repeat`` runs, tokenizer and tagger runs interleaved, to damp noise
from other processes on the machine.

It measures whichever monitor Python imports: the sources, or the build whose
tagging modules mypyc compiles (``setup.py``), the form a compiled install
runs: ``PYTHONPATH=$(scripts/build-compiled) .venv/bin/python bench/bench_nlp.py``.
The report's ``tagger:`` line says which.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import spacy
from spacy.about import __version__ as spacy_version
from spacy.tokenizer import Tokenizer

from monitor.nlp import words as words_module
from monitor.nlp.lexicon import load_lexicon
from monitor.nlp.multilingual import MultilingualTagger
from monitor.nlp.settings import NlpSettings
from monitor.nlp.tagger import Tagger
from monitor.nlp.terms import Terms

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "nlp"
CONFIG_DIR = REPO / "config"

_worker_tagger: Tagger | None = None


def build_corpus(articles: int, relevant_every: int, seed: int) -> list[str]:
    """Articles of a headline and 10 two-sentence paragraphs (~350 words)."""
    relevant = [
        json.loads(line)["text"]
        for line in (FIXTURES / "devset.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["tags"]
    ]
    neutral = [
        line
        for line in (FIXTURES / "bench-neutral.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    rng = random.Random(seed)
    corpus = []
    for number in range(articles):
        pool = relevant if number % relevant_every == 0 else neutral
        paragraphs = [" ".join(rng.sample(pool, 2)) for _ in range(10)]
        corpus.append(f"Article {number}\n" + "\n".join(paragraphs))
    return corpus


def build_foreign(language: str, articles: int, seed: int) -> list[str]:
    """Articles of a headline and 10 two-sentence paragraphs in ``language``."""
    sentences = [
        line
        for line in (FIXTURES / f"bench-{language}.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    rng = random.Random(seed)
    return [
        f"{sentences[number % len(sentences)]}\n"
        + "\n".join(" ".join(rng.sample(sentences, 2)) for _ in range(10))
        for number in range(articles)
    ]


def _tag_each(tagger: MultilingualTagger, texts: Sequence[str]) -> None:
    for number, text in enumerate(texts):
        tagger.tag(text).to_json_text(number)


def _identify(tagger: MultilingualTagger, texts: Sequence[str]) -> None:
    for text in texts:
        tagger.identify(text)


def _tokenize(tokenizer: Tokenizer, texts: Sequence[str]) -> None:
    for _ in tokenizer.pipe(texts):
        pass


def _tag(tagger: Tagger, texts: Sequence[str]) -> None:
    for number, result in enumerate(tagger.tag_many(texts)):
        result.to_json_text(number)  # the line `monitor tag --jsonl` writes


def _best_rate(runs: Sequence[Callable[[], None]], count: int, repeat: int) -> list[float]:
    """Articles/s of each run, best of ``repeat``, runs interleaved."""
    best = [0.0] * len(runs)
    for _ in range(repeat):
        for index, run in enumerate(runs):
            started = time.perf_counter()
            run()
            best[index] = max(best[index], count / (time.perf_counter() - started))
    return best


def _cold_rates(texts: list[str], repeat: int) -> tuple[float, float]:
    """Articles/s of a new bare tokenizer's and a new tagger's first pass over
    ``texts`` (best of ``repeat``): what caches add to the warmed figures."""
    bare_best = tag_best = 0.0
    for _ in range(repeat):
        bare = spacy.blank("en").tokenizer
        assert isinstance(bare, Tokenizer)
        tagger = Tagger.from_settings(NlpSettings(), CONFIG_DIR)
        bare_rate, tag_rate = _best_rate(
            [partial(_tokenize, bare, texts), partial(_tag, tagger, texts)], len(texts), 1
        )
        bare_best, tag_best = max(bare_best, bare_rate), max(tag_best, tag_rate)
    return bare_best, tag_best


def _init_worker(warm_up: list[str]) -> None:
    """Build this process's tagger and run it once over the corpus, as the
    single-process measurements are warmed (caches matter a lot, see the docs)."""
    global _worker_tagger
    _worker_tagger = Tagger.from_settings(NlpSettings(), CONFIG_DIR)
    _tag(_worker_tagger, warm_up)


def _tag_chunk(texts: list[str]) -> int:
    assert _worker_tagger is not None
    _tag(_worker_tagger, texts)
    return len(texts)


def _process_rate(processes: int, texts: list[str], repeat: int) -> float:
    chunk = max(1, len(texts) // (processes * 8))
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_init_worker, initargs=(texts,)) as pool:
        pool.map(_tag_chunk, [texts[:1]] * processes * 4)  # wait for start-up, not timed
        best = 0.0
        for _ in range(repeat):
            started = time.perf_counter()
            done = sum(pool.imap_unordered(_tag_chunk, chunks))
            best = max(best, done / (time.perf_counter() - started))
    return best


def _form() -> str:
    """Which tagger this run measures: the sources, or a mypyc-compiled build
    (``PYTHONPATH=$(scripts/build-compiled)``, see setup.py)."""
    where = Path(str(words_module.__file__))
    if where.suffix == ".so":
        return f"compiled by mypyc ({where.parent.parent.parent})"
    return f"pure Python ({where.parent.parent.parent})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    bare = spacy.blank("en").tokenizer
    # The same bare tokenizer after seeing the lexicon's phrases, as the tagger's
    # own tokenizer has (building the phrase matchers tokenizes them). In spaCy
    # 3.8 that alone makes tokenizing news text markedly faster, so this is the
    # stricter baseline (see the NLP section of docs/benchmarks.md for why).
    primed = spacy.blank("en").tokenizer
    assert isinstance(bare, Tokenizer) and isinstance(primed, Tokenizer)
    tagger = Tagger.from_settings(NlpSettings(), CONFIG_DIR)
    terms = Terms.from_lexicon(load_lexicon(CONFIG_DIR / "nlp"))
    for phrase in (*terms.entities, *terms.cues):
        primed(phrase)
    dense = build_corpus(args.articles, 1, args.seed)
    mix = build_corpus(args.articles, 10, args.seed)
    for texts in (dense, mix):  # warm caches on every side
        _tokenize(bare, texts)
        _tokenize(primed, texts)
        _tag(tagger, texts)

    rows = []
    for name, texts, goal in (("election-dense", dense, 1.0), ("realistic mix 1:10", mix, 3.0)):
        runs: list[Callable[[], None]] = [
            partial(_tokenize, bare, texts),
            partial(_tokenize, primed, texts),
            partial(_tag, tagger, texts),
        ]
        bare_rate, primed_rate, tag_rate = _best_rate(runs, len(texts), args.repeat)
        rows.append((name, bare_rate, primed_rate, tag_rate, goal))

    # Where the mix's time goes: its relevant tenth and its neutral nine tenths.
    kinds = []
    for kind, texts in (
        ("relevant (election-dense)", [t for i, t in enumerate(mix) if i % 10 == 0]),
        ("neutral", [t for i, t in enumerate(mix) if i % 10]),
    ):
        runs = [partial(_tokenize, bare, texts), partial(_tag, tagger, texts)]
        bare_rate, tag_rate = _best_rate(runs, len(texts), args.repeat)
        kinds.append((kind, len(texts), 1e6 / bare_rate, 1e6 / tag_rate))

    cold = _cold_rates(mix, args.repeat)

    one = _process_rate(1, dense, args.repeat)
    two = _process_rate(2, dense, args.repeat)

    multilingual = MultilingualTagger.from_settings(NlpSettings(), CONFIG_DIR)
    languages = []
    for language in ("es", "ru"):
        texts = build_foreign(language, args.articles // 3, args.seed)
        tokenizer = spacy.blank(language).tokenizer
        assert isinstance(tokenizer, Tokenizer)
        _tokenize(tokenizer, texts)
        _tag_each(multilingual, texts)
        runs = [
            partial(_tokenize, tokenizer, texts),
            partial(_tag_each, multilingual, texts),
            partial(_identify, multilingual, texts),
        ]
        bare_rate, tag_rate, id_rate = _best_rate(runs, len(texts), args.repeat)
        languages.append((language, bare_rate, tag_rate, 1e6 / id_rate))
    (english_id,) = _best_rate([partial(_identify, multilingual, mix)], len(mix), args.repeat)

    words = sum(len(t.split()) for t in dense) / len(dense)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, spaCy {spacy_version}"
    )
    print(f"corpus: {args.articles} articles per set, ~{words:.0f} words each, seed {args.seed}")
    print(f"tagger: {_form()}")
    print()
    print(
        "| corpus | bare tokenizer art/s | primed tokenizer art/s | tag art/s "
        "| tag / bare | tag / primed | goal |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, bare_rate, primed_rate, tag_rate, goal in rows:
        print(
            f"| {name} | {bare_rate:.0f} | {primed_rate:.0f} | {tag_rate:.0f} "
            f"| {tag_rate / bare_rate:.2f}× | {tag_rate / primed_rate:.2f}× | ≥ {goal}× |"
        )
    bare_cold, tag_cold = cold
    print(
        f"| realistic mix 1:10, first pass (cold caches) | {bare_cold:.0f} | | {tag_cold:.0f} "
        f"| {tag_cold / bare_cold:.2f}× | | |"
    )
    print()
    mix_cost = sum(count * tag_us for _, count, _, tag_us in kinds)
    print(
        "| mix article kind | articles | bare tokenizer µs/article | tag µs/article "
        "| share of tag time |"
    )
    print("|---|---|---|---|---|")
    for kind, count, bare_us, tag_us in kinds:
        print(
            f"| {kind} | {count} | {bare_us:.0f} | {tag_us:.0f} | {count * tag_us / mix_cost:.0%} |"
        )
    print()
    print("| workers (election-dense) | art/s | speed-up | goal |")
    print("|---|---|---|---|")
    print(f"| 1 process | {one:.0f} | 1.00× | |")
    print(f"| 2 processes | {two:.0f} | {two / one:.2f}× | ≥ 1.7× |")
    print()
    print(
        "| language | bare tokenizer art/s | tag art/s (identify + tag + JSON) | tag / bare "
        "| identify µs/article |"
    )
    print("|---|---|---|---|---|")
    print(f"| en (the mix) | | | | {1e6 / english_id:.0f} |")
    for language, bare_rate, tag_rate, id_us in languages:
        print(
            f"| {language} | {bare_rate:.0f} | {tag_rate:.0f} | {tag_rate / bare_rate:.2f}× "
            f"| {id_us:.0f} |"
        )


if __name__ == "__main__":
    main()
