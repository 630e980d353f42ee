"""Three alerts processes on three "machines"; the one holding the story state dies.

Each ``monitor run --roles alerts`` process has a state folder of its own, as it
would on a machine of its own; one NLP process feeds them through a real broker.
The stream holds articles and, later, exact copies of some of them from another
outlet. When a third of the articles have been notified, the process that holds
the story decisions' partition is SIGKILLed and its state folder deleted. The
copies arrive after that, so they are decided by whichever process takes the
partition over, which only merges them into the right stories if it rebuilt the
state from the changelog.

Expected: every article notified; the alerts topic holds exactly the story ids of
the fault-free reference run (a copy decided without the state would start a
story of its own); every copy's outlet reaches the receiver as a new revision of
its story; repeats only as re-deliveries of an identical revision, which
receivers drop by ``Idempotency-Key`` (the documented idempotency window:
records handled but not yet committed when the process died). Takeover time:
from the kill until the first notification for an article offered after it.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import pytest

from monitor.messages import Article, Source
from tests.kafka_broker import KafkaTopics
from tests.reliability.harness import (
    CountingReceiver,
    Launcher,
    Offerer,
    Results,
    alert_ids_on,
    corpus,
    env_number,
    kill,
    pipeline_config,
    read_topic,
    restores,
    revisions_at_once,
    wait_all_alerted,
)
from tests.reliability.reference import expected_alert_ids
from tests.support import MonitorProcess, wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.kafka]

ARTICLES = int(env_number("MONITOR_FAILOVER_ARTICLES", 90))
COPIES = ARTICLES // 3
RATE = env_number("MONITOR_FAILOVER_RATE", 6.0)
DRAIN_LIMIT_S = 240.0
COPY_FEED = "copydesk"
#: The stage whose state the scenario kills and restores.
STAGE = "stories"


def copy_of(article: Article) -> Article:
    """The same article carried by another outlet: same text, its own id and feed."""
    url = f"http://127.0.0.1/{COPY_FEED}/{article.id}"
    return dataclasses.replace(article, id=f"copy-{article.id}", url=url, feed_id=COPY_FEED,
                               sources=(Source(COPY_FEED, "http://127.0.0.1/copydesk.xml", url),))


def stream(originals: list[Article]) -> list[Article]:
    """Two thirds of the originals, then the rest mixed with copies of the first third."""
    head = ARTICLES * 2 // 3
    tail = originals[head:]
    copies = [copy_of(a) for a in originals[:COPIES]]
    mixed = [a for pair in zip(copies, tail, strict=False) for a in pair]
    return originals[:head] + mixed + copies[len(tail):] + tail[len(copies):]


def test_a_dead_alerts_machine_is_taken_over_with_its_story_state(
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_topics: KafkaTopics,
    launcher: Launcher,
    receiver: CountingReceiver,
    results: Results,
) -> None:
    originals = corpus(ARTICLES, start=400_000)
    items = stream(originals)
    expected = expected_alert_ids(tmp_path / "reference", items)
    folders = [tmp_path / f"machine-{n}" for n in range(3)]
    configs = [revisions_at_once(pipeline_config(folder, kafka_bootstrap, kafka_topics,
                                                 receiver.url, state_dir=folder / "state"))
               for folder in folders]
    nlp_config = pipeline_config(tmp_path / "machine-nlp", kafka_bootstrap, kafka_topics,
                                 receiver.url)
    launcher.start(nlp_config, "run", "--roles", "nlp")
    sinks = [launcher.start(config, "run", "--roles", "alerts") for config in configs]
    offerer = Offerer(kafka_bootstrap, kafka_topics.articles, items, RATE).start()
    wait_for(lambda: len(receiver.articles_alerted()) >= ARTICLES // 3, DRAIN_LIMIT_S,
             "a third of the articles notified before the kill")
    owners = [n for n, sink in enumerate(sinks) if restores(sink, STAGE)]
    assert owners, "no alerts process restored the story partition"
    victim = owners[-1] if len(owners) == 1 else _latest_restorer(sinks, owners)
    killed_at = time.monotonic()
    kill(sinks[victim])
    shutil.rmtree(folders[victim] / "state")
    offerer.close()
    originals_ids = {a.id for a in originals}
    wait_all_alerted(receiver, originals_ids, DRAIN_LIMIT_S, "after the takeover")
    copy_urls = {copy_of(a).url for a in originals[:COPIES]}
    wait_for(lambda: copy_urls <= _delivered_source_urls(receiver), DRAIN_LIMIT_S,
             "every copy's outlet delivered as a revision of its story")
    wait_for(lambda: expected <= receiver.keys(), DRAIN_LIMIT_S, "every expected story")

    after_kill = [receiver.first_by_article[a] for a, t in offerer.sent_at.items()
                  if t > killed_at and a in receiver.first_by_article]
    takers = [n for n, sink in enumerate(sinks) if n != victim and restores(sink, STAGE)]
    tally = receiver.tally()
    on_topic = alert_ids_on(kafka_bootstrap, kafka_topics.alerts)
    results.record(
        "failover-alerts", articles_in=len(items), copies=COPIES,
        alerts_expected=len(expected), alerts_on_topic=len(on_topic),
        alerts_delivered=len(tally.keys), posts=tally.posts,
        duplicates_by_key=tally.duplicates, revisions=tally.revisions,
        lost=len(expected - tally.keys), extra_stories=len(on_topic - expected),
        recovery_s=min(after_kill) - killed_at if after_kill else None,
        restore_s=max((restores(sinks[n], STAGE)[-1].seconds for n in takers),
                      default=None),
        changelog_records=len(read_topic(kafka_bootstrap, kafka_topics.alerts_state)),
        offered_per_s=offerer.offered_rate(),
    )
    assert takers, "no surviving process restored the story partition"
    assert on_topic == expected, (
        f"stories lost: {len(expected - on_topic)}, extra: {len(on_topic - expected)}")
    assert tally.keys == expected
    assert tally.revisions >= COPIES  # each copy revised its story, none started one
    assert tally.bad_signatures == 0


def _latest_restorer(sinks: list[MonitorProcess], owners: list[int]) -> int:
    """Of several processes that restored the partition, the one that did so last."""
    return max(owners, key=lambda n: max((r.time for r in restores(sinks[n], STAGE)), default=""))


def _delivered_source_urls(receiver: CountingReceiver) -> set[str]:
    with receiver._lock:
        received = list(receiver.received)
    urls: set[str] = set()
    for item in received:
        story = item.payload.get("alert", item.payload)
        urls.update(str(source.get("entry_url")) for source in story.get("sources", []))
    return urls
