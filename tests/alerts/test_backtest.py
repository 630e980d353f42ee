"""``monitor rules backtest`` on an embedded install: the local statement history,
stories and notifications per rule, what it says when there is nothing to read."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.alerts.backtest import Simulation, backtest
from monitor.alerts.commands import ProgressLine
from monitor.alerts.rules import load_rules
from monitor.alerts.settings import AlertSettings, DedupSettings
from monitor.bus.codec import encode
from monitor.cli import cli
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.demo import DEMO_DIR, StaticSite, serving
from monitor.messages import Source, TaggedArticle
from monitor.nlp.history import StatementHistory
from tests.alerts.helpers import RULES_FILE, tagged_article
from tests.support import write_config

RULES = load_rules(RULES_FILE)


def _copy(article: TaggedArticle, article_id: str, feed: str) -> TaggedArticle:
    """A syndicated copy: another id and outlet, the same statements."""
    url = f"https://{feed}.example/{article_id}"
    ref = dataclasses.replace(article.article, id=article_id, url=url, feed_id=feed,
                              sources=(Source(feed_id=feed, feed_url="", entry_url=url),))
    return dataclasses.replace(article, article=ref)


def _simulate(records: list[tuple[float | None, TaggedArticle]], interval: float = 0.0
              ) -> Simulation:
    simulation = Simulation(RULES, AlertSettings(group_interval_s=interval), samples=1)
    backtest(simulation, [(at, encode(a)) for at, a in records])
    return simulation


def test_a_syndicated_copy_is_one_story_and_one_revision_per_new_source() -> None:
    original = tagged_article()
    report = _simulate([
        (0.0, original),
        (10.0, original),  # read again: nothing new, nothing sent
        (20.0, _copy(original, "copy-1", "wire")),  # a new source: one revision
        # the same claim again from the same outlet: the sink's dedup drops it
        (25.0, tagged_article(article_id="again", edit=lambda t: f"{t} (2)")),
        (30.0, tagged_article(article_id="other", edit=lambda t: f"{t} {t}")),  # a new story
    ]).report
    assert (report.articles, report.stories, report.notifications) == (5, 2, 3)
    assert report.revisions == 1
    disputed = report.rules["election-result-disputed"]
    assert disputed.statements == 10 and len(disputed.stories) == 2
    assert disputed.notifications == 3
    [example] = disputed.examples
    assert example.url == original.article.url and example.words


def test_revisions_within_group_interval_are_sent_as_one() -> None:
    original = tagged_article()
    copies = [(float(t), _copy(original, f"copy-{t}", f"feed{t}")) for t in (10, 20, 30, 400)]
    report = _simulate([(0.0, original), *copies], interval=300.0).report
    # first at 0; 10, 20 and 30 wait: only the newest goes, at 300; 400 waits until 600
    assert (report.stories, report.notifications) == (1, 3)
    report = _simulate([(0.0, original), *copies], interval=0.0).report
    assert report.notifications == 5


def _repeated(text: str, times: int) -> str:
    """The text ``times`` over: too unlike the others in length to be one story."""
    return f"{text} " * times


def test_the_sinks_rate_limit_applies_and_a_story_waits_for_group_wait_s() -> None:
    stories = [(float(n), tagged_article(article_id=f"a{n}",
                                         edit=functools.partial(_repeated, times=2**n)))
               for n in range(3)]
    simulation = Simulation(RULES, AlertSettings(dedup=DedupSettings(rate_limit_count=1)))
    report = backtest(simulation, [(at, encode(a)) for at, a in stories])
    assert report.stories == 1  # the second and third are rate limited, as the sink does
    assert report.rules["election-result-disputed"].statements == 6
    assert report.rules["election-result-disputed"].notifications == 1
    original = tagged_article()
    settings = AlertSettings(group_wait_s=60.0, group_interval_s=0.0)
    report = backtest(Simulation(RULES, settings), [
        (0.0, encode(original)), (30.0, encode(_copy(original, "copy-1", "wire"))),
    ])
    assert (report.stories, report.notifications) == (1, 1)  # the copy came within group_wait_s


def test_undecodable_records_are_counted_and_a_limit_stops_reading() -> None:
    simulation = Simulation(RULES)
    records = [(None, b"not json"), *((None, encode(tagged_article())) for _ in range(3))]
    seen: list[tuple[int, int | None]] = []
    report = backtest(simulation, records, limit=2, total=4,
                      progress=lambda done, total: seen.append((done, total)))
    assert (report.undecodable, report.articles) == (1, 2)
    assert seen[-1] == (3, 4)


def _backtest(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "rules", "backtest", *args])


def test_the_cli_reads_the_local_history_and_reports_per_rule(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    history = StatementHistory.in_dir(tmp_path / "state")
    original = tagged_article()
    for at, article in ((1_800_000_000.0, original),
                        (1_800_000_060.0, _copy(original, "copy-1", "wire"))):
        history.record(article, at)
    history.close()
    result = _backtest(config, "--samples", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    path = tmp_path / "state" / "statements.sqlite3"
    assert lines[0].startswith(f"source: local statement history {path}: 2 articles, 8 "
                               "statements recorded 2027-01-15T08:00:00Z .. ")
    assert "(kept 30 days, at most 100,000 articles)" in lines[0]
    assert lines[1] == "2 articles, 8 statements"
    assert lines[2].startswith("1 stories, 2 notifications would be sent (1 revisions;")
    rows = {line.split()[0]: line.split()[1:] for line in lines[4:] if not line.startswith(" ")}
    assert rows["election-result-disputed"] == ["4", "1", "2"]
    assert rows["foreign-interference-warning"] == ["2", "1", "2"]
    assert rows["interference-denial"] == ["0", "0", "0"]
    firing = sum(row[0] != "0" for row in rows.values())
    assert sum(line.startswith("    - ") for line in lines) == firing  # one example each


def test_no_or_an_empty_history_is_said_plainly_and_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    path = tmp_path / "state" / "statements.sqlite3"
    result = _backtest(config)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: no statement history at {path}: ")
    StatementHistory(path).close()
    result = _backtest(config)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the statement history at {path} is empty: ")
    assert "monitor run" in result.stderr and result.stdout == ""
    result = _backtest(config, "--from", "topic")
    assert result.exit_code == 2 and "needs bus.kind: kafka" in result.stderr


@pytest.fixture
def demo_site() -> Iterator[StaticSite]:
    server = StaticSite(DEMO_DIR / "site")
    with serving(server):
        yield server


def test_statements_the_embedded_daemon_tagged_from_the_demo_feeds_are_backtested(
    tmp_path: Path, demo_site: StaticSite
) -> None:
    base = demo_site.base_url
    config = write_config(tmp_path, feeds=[("demo-world", f"{base}/world.xml"),
                                           ("demo-politics", f"{base}/politics.atom")])
    daemon = Daemon(load_settings(config, environ={}), ("poller", "nlp", "alerts"))
    try:
        daemon.run_once()
    finally:
        daemon.close()
    result = _backtest(config, "--samples", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("source: local statement history ")
    assert lines[1].startswith("4 articles, ")  # the four demo articles: all have statements
    rows = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines[4:]
            if not line.startswith(" ")}
    firing = {name: row for name, row in rows.items() if row[0]}
    assert "foreign-interference-warning" in firing, result.stdout
    for statements, stories, notifications in firing.values():
        assert 1 <= stories <= statements and notifications == stories  # nothing revised
    # the two political articles are two stories, one notification each
    assert lines[2].startswith("2 stories, 2 notifications would be sent (0 revisions; ")


def test_progress_goes_to_stderr_at_most_once_per_interval(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress = ProgressLine(every_s=0.0)
    progress(1_500, 20_000)
    progress(3_000, None)
    progress.end()
    quiet = ProgressLine(every_s=3600.0)
    quiet(1, 2)  # a short run shows nothing
    quiet.end()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("\rbacktest: 1,500 of 20,000 articles read"
                            "\rbacktest: 3,000 articles read\n")
