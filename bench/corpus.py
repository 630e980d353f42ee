"""Synthetic wire stories for benchmarks, written for this project.

Every article is unique (a serial number goes into every alert-worthy
sentence) so that story deduplication and repeat suppression do not merge
them, and each carries one election statement and one foreign-interference
warning, so each is expected to raise alerts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from monitor.messages import Article, Source

COUNTRIES = [
    ("Bolivia", "Bolivian", "La Paz"),
    ("Georgia", "Georgian", "Tbilisi"),
    ("Moldova", "Moldovan", "Chisinau"),
    ("Serbia", "Serbian", "Belgrade"),
    ("Kenya", "Kenyan", "Nairobi"),
    ("Peru", "Peruvian", "Lima"),
    ("Armenia", "Armenian", "Yerevan"),
    ("Ecuador", "Ecuadorian", "Quito"),
]
SPEAKERS = [
    ("Kremlin spokesman", "Dmitry Peskov", "he"),
    ("Foreign ministry spokeswoman", "Maria Zakharova", "she"),
    ("State Department spokesman", "Matthew Miller", "he"),
    ("Chinese foreign ministry spokesman", "Lin Jian", "he"),
]

BODY = (
    "{speaker_title} {speaker} said on Tuesday that {country}'s opposition must accept "
    "the result of the presidential election held on day {serial}.\n"
    "Observers from several countries questioned the official count in {capital}, "
    "where protesters gathered for the {serial}th time.\n"
    "“Nobody outside {country} should interfere in its elections,” {speaker} told reporters "
    "at briefing {serial}.\n"
    "{pronoun_cap} also warned third countries against meddling in {country}'s internal affairs "
    "for the {serial}th time.\n"
    "Local markets were calm and the weather in {capital} was mild.\n"
)


def article(serial: int, rng: random.Random) -> Article:
    """One unique, alert-worthy article."""
    country, demonym, capital = rng.choice(COUNTRIES)
    speaker_title, speaker, pronoun = rng.choice(SPEAKERS)
    text = BODY.format(
        speaker_title=speaker_title,
        speaker=speaker,
        country=country,
        capital=capital,
        serial=serial,
        pronoun_cap=pronoun.capitalize(),
    )
    url = f"https://bench.example/{country.lower()}/{serial}"
    return Article(
        id=f"bench-{serial:08d}",
        url=url,
        title=f"{demonym} opposition told to accept election result (report {serial})",
        text=text,
        text_source="content",
        feed_id="bench",
        sources=(Source("bench", "https://bench.example/feed.xml", url),),
        fetched_at="2024-08-13T08:00:00Z",
    )


def articles(count: int, seed: int = 7, start: int = 0) -> Iterator[Article]:
    rng = random.Random(seed)
    for serial in range(start, start + count):
        yield article(serial, rng)


NEUTRAL_SENTENCES = Path(__file__).resolve().parent.parent / "tests/fixtures/nlp/bench-neutral.txt"


def neutral_article(serial: int, rng: random.Random, sentences: list[str]) -> Article:
    """One unique article with nothing to alert on (weather, markets, sport…)."""
    body = " ".join(rng.sample(sentences, k=min(6, len(sentences))))
    url = f"https://bench.example/news/{serial}"
    return Article(
        id=f"news-{serial:08d}",
        url=url,
        title=f"Around the region today (report {serial})",
        text=f"{body}\nReport {serial} ends here.",
        text_source="content",
        feed_id="bench",
        sources=(Source("bench", "https://bench.example/feed.xml", url),),
        fetched_at="2024-08-13T08:00:00Z",
    )


def news_mix(count: int, relevant_every: int = 10, seed: int = 7,
             start: int = 0) -> Iterator[Article]:
    """A realistic stream: one alert-worthy article (id ``bench-…``) in every
    ``relevant_every``, the others neutral (id ``news-…``)."""
    rng = random.Random(seed)
    sentences = [line for line in NEUTRAL_SENTENCES.read_text(encoding="utf-8").splitlines()
                 if line and not line.startswith("#")]
    for serial in range(start, start + count):
        if serial % relevant_every == 0:
            yield article(serial, rng)
        else:
            yield neutral_article(serial, rng, sentences)
