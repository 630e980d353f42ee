"""How Russian cue words are matched: written-out forms, lemmas or stems.

``python bench/bench_ru_forms.py [FILE.jsonl …]`` (default: the project's
real Russian set, ``tests/fixtures/nlp/real-ru.jsonl``; pass
``../shared/nlp/realdev-ru.jsonl`` too where it exists).

The Russian lexicon (``config/nlp/ru``) lists each one-word cue's forms
("выбор{ы|ов|ах}"), matched like English words. The alternative measured here
is to lemmatise every word with pymorphy3 (installed: it names speakers in the
nominative). A Snowball stemmer would need a new dependency and, cutting
endings blindly, merges more homographs than lemmas do, so it was not tried.

For every word of the texts whose lemma is the lemma of a one-word cue, it
reports whether the written-out forms cover it (coverage), the words the
lemma approach would add that are not cues at all (homographs), and what
each approach costs per word.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import time

import pymorphy3

from monitor.nlp.lexicon import load_lexicon

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)*", re.IGNORECASE)


def one_word_cues() -> set[str]:
    lexicon = load_lexicon(ROOT / "config/nlp/ru")
    election, interference = lexicon.cues.election, lexicon.cues.foreign_interference
    lists = (election.strong, election.weak, interference.strong, interference.weak)
    return {term.lower() for terms in lists for term in terms if " " not in term}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=[ROOT / "tests/fixtures/nlp/real-ru.jsonl"])
    args = parser.parse_args()
    words = [
        w.lower()
        for path in args.files
        for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip()
        for w in WORD.findall(json.loads(line)["text"])
    ]
    forms = one_word_cues()
    morph = pymorphy3.MorphAnalyzer()
    cue_lemmas = {morph.parse(f)[0].normal_form for f in forms}

    started = time.perf_counter()
    lemmas = [morph.parse(w)[0].normal_form for w in words]
    lemma_s = time.perf_counter() - started
    started = time.perf_counter()
    in_forms = [w in forms for w in words]
    forms_s = time.perf_counter() - started

    by_lemma = [w for w, lemma in zip(words, lemmas, strict=True) if lemma in cue_lemmas]
    covered = sum(1 for w in by_lemma if w in forms)
    missed = sorted({w for w in by_lemma if w not in forms})
    print(f"texts: {len(args.files)} file(s), {len(words)} Russian words")
    print(f"one-word cues: {len(forms)} forms of {len(cue_lemmas)} lemmas")
    print(
        f"words whose lemma is a cue's lemma: {len(by_lemma)}; "
        f"the written-out forms cover {covered} ({covered / max(1, len(by_lemma)):.1%})"
    )
    print(f"forms not listed: {', '.join(missed) or 'none'}")
    print(f"found by forms: {sum(in_forms)} words")
    print(
        f"cost per word: forms (set lookup) {forms_s / len(words) * 1e6:.2f} µs, "
        f"pymorphy3 lemma {lemma_s / len(words) * 1e6:.2f} µs "
        f"({lemma_s / max(forms_s, 1e-9):.0f}×)"
    )


if __name__ == "__main__":
    main()
