"""The local statement history: what is recorded, once, and how long it is kept."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.clock import FrozenClock
from monitor.messages import TaggedArticle
from monitor.nlp.history import (
    PRUNE_EVERY_ROWS,
    PRUNE_EVERY_S,
    HistoryRecorder,
    StatementHistory,
    prune_due,
)
from monitor.nlp.settings import HistorySettings
from tests.alerts.helpers import tagged_article

DAY = 86400.0


def _article(n: int) -> TaggedArticle:
    return tagged_article(article_id=f"a-{n}", edit=lambda t: f"{t} ({n})")


def test_an_article_is_kept_once_without_its_document(tmp_path: Path) -> None:
    history = StatementHistory.in_dir(tmp_path)
    article = _article(1)
    assert history.record(article, 100.0)
    assert not history.record(article, 200.0)  # the stage read it again: stored once
    revised = dataclasses.replace(article, statements=article.statements[:1])
    assert history.record(revised, 300.0)  # a revision is a row of its own
    assert not history.record(dataclasses.replace(article, statements=()), 400.0)
    [(first_at, first), (_, second)] = list(history.articles())
    assert first_at == 100.0
    assert first.statements == article.statements and first.article == article.article
    assert first.document == "" and second.statements == article.statements[:1]
    span = history.span()
    assert (span.articles, span.first, span.last) == (2, 100.0, 300.0)
    assert span.statements == len(article.statements) + 1
    history.close()


def test_the_history_is_read_in_batches_oldest_first(tmp_path: Path) -> None:
    history = StatementHistory.in_dir(tmp_path)
    for n in range(7):
        history.record(_article(n), float(n))
    read = [decoded.article.id for _, decoded in history.articles()]
    assert read == [f"a-{n}" for n in range(7)]
    assert [at for at, _ in history.read(batch=3)] == [float(n) for n in range(7)]
    history.close()


def test_a_batch_is_written_at_its_flush_with_the_times_it_was_recorded(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(start=1_000.0)
    recorder = HistoryRecorder(HistorySettings(), tmp_path, clock)
    recorder.record(_article(0))
    clock.advance(5.0)
    recorder.record(dataclasses.replace(_article(1), statements=()))  # nothing to keep
    recorder.record(_article(2))
    history = StatementHistory.in_dir(tmp_path, readonly=True)
    assert history.span().articles == 0  # nothing written before the batch settles
    recorder.flush()
    assert [(at, a.article.id) for at, a in history.articles()] == [
        (1_000.0, "a-0"), (1_005.0, "a-2")
    ]
    recorder.record(_article(3))
    recorder.discard()  # a rewound batch: its articles are read and recorded again
    recorder.record(_article(2))  # read again after a crash before the commit
    recorder.close()
    assert [a.article.id for _, a in history.articles()] == ["a-0", "a-2"]
    history.close()


def test_prune_is_due_on_first_use_then_after_rows_or_time() -> None:
    assert prune_due(0, None, 0.0)
    assert not prune_due(PRUNE_EVERY_ROWS - 1, 0.0, PRUNE_EVERY_S - 1)
    assert prune_due(PRUNE_EVERY_ROWS, 0.0, 1.0)
    assert prune_due(1, 0.0, PRUNE_EVERY_S)


def test_the_recorder_drops_what_is_past_retention_by_the_injected_clock(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(start=1_800_000_000.0)
    settings = HistorySettings(retention_days=2, max_articles=1000)
    recorder = HistoryRecorder(settings, tmp_path, clock)
    recorder.record(_article(0))  # day 0
    clock.advance(1.5 * DAY)
    recorder.record(_article(1))  # day 1.5
    clock.advance(1.0 * DAY)  # day 2.5: article 0 is 2.5 days old, past 2 days
    recorder.record(_article(2))
    recorder.close()
    history = StatementHistory.in_dir(tmp_path, readonly=True)
    kept = [a.article.id for _, a in history.articles()]
    history.close()
    assert kept == ["a-1", "a-2"]


def test_the_recorder_keeps_at_most_max_articles_the_newest(tmp_path: Path) -> None:
    clock = FrozenClock()
    recorder = HistoryRecorder(HistorySettings(max_articles=3), tmp_path, clock)
    for n in range(PRUNE_EVERY_ROWS + 5):
        recorder.record(_article(n))
        clock.advance(1.0)
    recorder.close()
    history = StatementHistory.in_dir(tmp_path)
    count = history.span().articles
    assert 3 <= count <= 3 + PRUNE_EVERY_ROWS  # bounded between prunes
    history.prune(before=0.0, max_articles=3)
    kept = [a.article.id for _, a in history.articles()]
    history.close()
    last = PRUNE_EVERY_ROWS + 4
    assert kept == [f"a-{n}" for n in (last - 2, last - 1, last)]


def test_a_disabled_history_records_nothing(tmp_path: Path) -> None:
    recorder = HistoryRecorder(HistorySettings(enabled=False), tmp_path, FrozenClock())
    recorder.record(_article(0))
    recorder.close()
    assert not StatementHistory.path_in(tmp_path).exists()


def test_a_store_failure_never_stops_tagging(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the state folder should be")
    recorder = HistoryRecorder(HistorySettings(), tmp_path / "state", FrozenClock())
    recorder.record(_article(0))  # logged, not raised
    recorder.close()


def test_a_new_retention_applies_at_the_next_record(tmp_path: Path) -> None:
    clock = FrozenClock()
    recorder = HistoryRecorder(HistorySettings(max_articles=10), tmp_path, clock)
    for n in range(4):
        recorder.record(_article(n))
    recorder.adopt(HistorySettings(max_articles=2))  # SIGHUP
    recorder.record(_article(4))
    recorder.close()
    history = StatementHistory.in_dir(tmp_path)
    assert [a.article.id for _, a in history.articles()] == ["a-3", "a-4"]
    history.close()
