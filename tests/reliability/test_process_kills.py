"""SIGKILL of the poller, an NLP worker or the alert sink under load, then restart.

Each role runs as its own ``monitor run --roles …`` process on a real broker.
Articles stream in at a steady rate; when about a third of them have raised
alerts, one process is killed with SIGKILL (no handler, no flush, no commit)
and started again two seconds later. Expected: every article tagged, every
alert of the fault-free reference run on the alerts topic and delivered;
repeats only as re-deliveries of an identical revision, which receivers drop
by ``Idempotency-Key``. Recovery time: from the kill until the first alert for
an article offered after the kill reaches the webhook.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from monitor.bus.codec import decode
from monitor.demo import serving
from monitor.messages import Article
from tests.kafka_broker import KafkaTopics
from tests.reliability.harness import (
    CountingReceiver,
    GrowingServer,
    GrowingSite,
    Launcher,
    MemorySampler,
    Offerer,
    Results,
    alert_ids_on,
    corpus,
    env_number,
    kill,
    pipeline_config,
    read_topic,
    tagged_article_ids_on,
    wait_all_alerted,
)
from tests.reliability.reference import expected_alert_ids
from tests.support import wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.kafka]

ARTICLES = int(env_number("MONITOR_FAULT_ARTICLES", 90))
RATE = env_number("MONITOR_FAULT_RATE", 6.0)
RESTART_AFTER_S = 2.0
DRAIN_LIMIT_S = 240.0


@pytest.mark.parametrize("victim", ["nlp", "alerts"])
def test_sigkill_of_a_stage_under_load_loses_no_alert(
    victim: str,
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_topics: KafkaTopics,
    launcher: Launcher,
    receiver: CountingReceiver,
    results: Results,
) -> None:
    items = corpus(ARTICLES, start=100_000 if victim == "nlp" else 200_000)
    expected = expected_alert_ids(tmp_path / "reference", items)
    config = pipeline_config(tmp_path / "run", kafka_bootstrap, kafka_topics, receiver.url)
    processes = {role: launcher.start(config, "run", "--roles", role) for role in ("nlp", "alerts")}
    offerer = Offerer(kafka_bootstrap, kafka_topics.articles, items, RATE).start()
    with MemorySampler({r: p.popen.pid for r, p in processes.items()}) as memory:
        wait_for(lambda: len(receiver.articles_alerted()) >= ARTICLES // 3, DRAIN_LIMIT_S,
                 "a third of the articles alerted before the kill")
        killed_at = time.monotonic()
        kill(processes[victim])
        time.sleep(RESTART_AFTER_S)
        restarted = launcher.start(config, "run", "--roles", victim)
        memory.pids[f"{victim}-restarted"] = restarted.popen.pid
        memory.samples[f"{victim}-restarted"] = []
        offerer.close()
        wait_all_alerted(receiver, {a.id for a in items}, DRAIN_LIMIT_S, "after the restart")
        wait_for(lambda: expected <= receiver.keys(), DRAIN_LIMIT_S, "every expected alert")
    after_kill = [receiver.first_by_article[a] for a, t in offerer.sent_at.items()
                  if t > killed_at and a in receiver.first_by_article]
    tally = receiver.tally()
    on_topic = alert_ids_on(kafka_bootstrap, kafka_topics.alerts)
    tagged = tagged_article_ids_on(kafka_bootstrap, kafka_topics.statements)
    results.record(
        f"sigkill-{victim}", articles_in=len(items), alerts_expected=len(expected),
        alerts_on_topic=len(on_topic), alerts_delivered=len(tally.keys), posts=tally.posts,
        duplicates_by_key=tally.duplicates, revisions=tally.revisions,
        lost=len(expected - tally.keys),
        recovery_s=min(after_kill) - killed_at if after_kill else None,
        peak_rss_mib=memory.peak_mib(), offered_per_s=offerer.offered_rate(),
    )
    assert {a.id for a in items} <= tagged, "articles missing from the statements topic"
    assert on_topic == expected, "the alerts topic differs from the fault-free reference"
    assert tally.keys == expected, f"lost: {sorted(expected - tally.keys)[:5]}"
    assert tally.bad_signatures == 0


def test_sigkill_of_the_poller_mid_stream_loses_no_article(
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_topics: KafkaTopics,
    launcher: Launcher,
    receiver: CountingReceiver,
    results: Results,
) -> None:
    items = corpus(ARTICLES, start=300_000)
    site = GrowingSite(items, feeds=4, rate=RATE)
    server = GrowingServer(site)
    with serving(server):
        feeds = server.feed_urls()
        config = pipeline_config(tmp_path, kafka_bootstrap, kafka_topics, receiver.url,
                                 feeds=feeds)
        config.with_name("feeds.yaml").write_text(yaml.safe_dump(
            {"feeds": [{"id": f, "url": u, "interval_s": 1} for f, u in feeds]}))
        processes = {r: launcher.start(config, "run", "--roles", r)
                     for r in ("poller", "nlp", "alerts")}
        site.started = time.monotonic()
        wait_for(lambda: len(receiver.articles_alerted()) >= ARTICLES // 3, DRAIN_LIMIT_S,
                 "a third of the articles alerted before the kill")
        killed_at = time.monotonic()
        kill(processes["poller"])
        time.sleep(RESTART_AFTER_S)
        poller = launcher.start(config, "run", "--roles", "poller")
        try:
            wait_for(lambda: len(receiver.articles_alerted()) >= ARTICLES, DRAIN_LIMIT_S,
                     "an alert for every feed item after the restart")
        except AssertionError:  # say where the stream stopped
            on_articles = read_topic(kafka_bootstrap, kafka_topics.articles)
            print(f"alerted {len(receiver.articles_alerted())}, published {len(on_articles)}")
            print("killed poller:", processes["poller"].output()[-3000:])
            print("restarted poller:", poller.output()[-5000:])
            raise
    published = [decode(v, Article) for v in read_topic(kafka_bootstrap, kafka_topics.articles)]
    urls = {a.url for a in published}
    alerted = receiver.articles_alerted()
    released_after = [i for i in range(ARTICLES) if site.released_at(i) > killed_at]
    by_url = {a.url: a.id for a in published}
    after_kill = [receiver.first_by_article[by_url[items[i].url]] for i in released_after
                  if by_url.get(items[i].url) in receiver.first_by_article]
    on_topic = alert_ids_on(kafka_bootstrap, kafka_topics.alerts)
    tally = receiver.tally()
    results.record(
        "sigkill-poller", articles_in=len(items), articles_published=len(published),
        duplicate_articles=len(published) - len(urls), alerts_expected=len(on_topic),
        alerts_delivered=len(tally.keys), posts=tally.posts,
        duplicates_by_key=tally.duplicates, revisions=tally.revisions,
        lost=len(on_topic - tally.keys),
        recovery_s=min(after_kill) - killed_at if after_kill else None,
    )
    assert urls == {a.url for a in items}, "feed items never published"
    assert len(alerted) == ARTICLES
    assert on_topic <= tally.keys
    assert tally.bad_signatures == 0
