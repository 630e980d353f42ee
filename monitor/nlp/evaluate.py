"""Score the tagger on labelled sentence sets: ``python -m monitor.nlp.evaluate``.

A set is JSON lines ``{"doc", "text", "tags", "speaker"}``. Consecutive lines
with the same ``doc`` form one article, one paragraph per line (so speakers
and article context carry across lines). A line's prediction is the union of
the tags of the statements inside it and the first speaker found in it.

Speakers match case-insensitively, ignoring possessive "’s", when they are
equal, share their last word ("Peskov" / "Dmitry Peskov"), or when every word
of one is among the words of the other ("Lula" / "Luiz Inacio Lula da Silva",
"China" / "China's foreign ministry").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from monitor.messages import TAGS
from monitor.nlp.settings import NlpSettings
from monitor.nlp.tagger import Tagger


@dataclass(frozen=True, slots=True)
class Item:
    doc: str
    text: str
    tags: frozenset[str]
    speaker: str | None


@dataclass(frozen=True, slots=True)
class Prediction:
    tags: frozenset[str]
    speaker: str | None


@dataclass(slots=True)
class Scores:
    """Counts for one labelled set."""

    items: int = 0
    true_pos: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TAGS, 0))
    false_pos: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TAGS, 0))
    false_neg: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TAGS, 0))
    speaker_right: int = 0
    gold_speakers: int = 0
    gold_speakers_found: int = 0
    predicted_speakers: int = 0
    predicted_speakers_right: int = 0

    def add(self, item: Item, prediction: Prediction) -> None:
        self.items += 1
        for tag in TAGS:
            gold, guess = tag in item.tags, tag in prediction.tags
            self.true_pos[tag] += gold and guess
            self.false_pos[tag] += guess and not gold
            self.false_neg[tag] += gold and not guess
        right = speakers_match(item.speaker, prediction.speaker)
        self.speaker_right += right
        if item.speaker is not None:
            self.gold_speakers += 1
            self.gold_speakers_found += right
        if prediction.speaker is not None:
            self.predicted_speakers += 1
            self.predicted_speakers_right += right

    def prf(self, tag: str) -> tuple[float, float, float]:
        tp, fp, fn = self.true_pos[tag], self.false_pos[tag], self.false_neg[tag]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


_POSSESSIVE = re.compile(r"[’']s\b")


def _words(name: str) -> list[str]:
    return _POSSESSIVE.sub("", name.lower()).replace(".", "").split()


def speakers_match(gold: str | None, guess: str | None) -> bool:
    """The matching rule described in the module docstring."""
    if gold is None or guess is None:
        return gold is None and guess is None
    a, b = _words(gold), _words(guess)
    if not a or not b:
        return a == b
    if a == b or a[-1] == b[-1]:
        return True
    shorter, longer = sorted((a, b), key=len)
    return all(word in longer for word in shorter)


def load_items(path: Path) -> list[Item]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        unknown = set(raw["tags"]) - set(TAGS)
        if unknown:
            raise ValueError(f"{path}:{number}: unknown tags {sorted(unknown)}")
        items.append(Item(raw["doc"], raw["text"], frozenset(raw["tags"]), raw["speaker"]))
    return items


def _documents(items: Sequence[Item]) -> Iterable[list[Item]]:
    group: list[Item] = []
    for item in items:
        if group and group[-1].doc != item.doc:
            yield group
            group = []
        group.append(item)
    if group:
        yield group


def predict(tagger: Tagger, items: Sequence[Item]) -> list[Prediction]:
    """One prediction per item, in order."""
    predictions = []
    for group in _documents(items):
        document = "\n"  # an empty headline: every item is a body paragraph
        bounds = []
        for item in group:
            bounds.append((len(document), len(document) + len(item.text)))
            document += item.text + "\n"
        result = tagger.tag(document)
        for start, end in bounds:
            inside = [s for s in result.statements if start <= s.start and s.end <= end]
            tags = frozenset(tag for s in inside for tag in s.tags)
            speaker = next((s.speaker for s in inside if s.speaker), None)
            predictions.append(Prediction(tags, speaker))
    return predictions


def score(items: Sequence[Item], predictions: Sequence[Prediction]) -> Scores:
    scores = Scores()
    for item, prediction in zip(items, predictions, strict=True):
        scores.add(item, prediction)
    return scores


def report(name: str, scores: Scores) -> str:
    """A Markdown table of the scores."""
    rows = [
        f"**{name}** ({scores.items} sentences)",
        "",
        "| measure | P | R | F1 |",
        "|---|---|---|---|",
    ]
    for tag in TAGS:
        p, r, f = scores.prf(tag)
        support = scores.true_pos[tag] + scores.false_neg[tag]
        rows.append(f"| `{tag}` (n={support}) | {p:.3f} | {r:.3f} | {f:.3f} |")
    accuracy = scores.speaker_right / scores.items if scores.items else 1.0
    found = scores.gold_speakers_found / scores.gold_speakers if scores.gold_speakers else 1.0
    right = (
        scores.predicted_speakers_right / scores.predicted_speakers
        if scores.predicted_speakers
        else 1.0
    )
    rows += [
        "",
        f"- speaker accuracy (all sentences, none = none counts): {accuracy:.3f}",
        f"- speaker recall (sentences with a speaker, n={scores.gold_speakers}): {found:.3f}",
        f"- speaker precision (sentences given a speaker, n={scores.predicted_speakers}): "
        f"{right:.3f}",
    ]
    return "\n".join(rows)


def errors(items: Sequence[Item], predictions: Sequence[Prediction]) -> Iterable[str]:
    for item, guess in zip(items, predictions, strict=True):
        bad_tags = item.tags != guess.tags
        bad_speaker = not speakers_match(item.speaker, guess.speaker)
        if bad_tags or bad_speaker:
            yield (
                f"{item.doc}: gold={sorted(item.tags)}/{item.speaker} "
                f"got={sorted(guess.tags)}/{guess.speaker} :: {item.text}"
            )


@click.command()
@click.argument("sets", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--config-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("config")
)
@click.option("--show-errors", is_flag=True, help="List every sentence scored wrong.")
def main(sets: tuple[Path, ...], config_dir: Path, show_errors: bool) -> None:
    """Print precision/recall/F1 per tag and speaker accuracy for each SET."""
    tagger = Tagger.from_settings(NlpSettings(), config_dir)
    for path in sets:
        items = load_items(path)
        predictions = predict(tagger, items)
        click.echo(report(path.name, score(items, predictions)) + "\n")
        if show_errors:
            for line in errors(items, predictions):
                click.echo(line)
            click.echo("")


if __name__ == "__main__":
    main()
