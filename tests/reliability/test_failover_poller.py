"""Three poller processes on three "machines"; one dies with its state folder.

Each ``monitor run --roles poller`` process (polling and the publisher stage)
has a state folder of its own, as it would on a machine of its own; they share
the feed list (``poller.sharing: kafka``) and the publisher's consumer group, so
each decides for about a third of the article ids. One NLP and one alerts
process carry the articles to a signed webhook. Four feeds grow over time; a
fifth, the syndication feed, carries every item again ``SYNDICATION_LAG_S``
after it appeared, so each article is published new from its feed and then
once revised, listing both feeds.

When a third of the items have been alerted, a poller whose publisher holds a
partition is SIGKILLed and its state folder deleted. The syndicated copies of
articles it published before the kill arrive after it, at whichever process
takes its partitions over: only a process that rebuilt the published articles
from the changelog turns them into revisions instead of new articles.

Expected: every feed item published and alerted; every article published new
from one feed only. An article may be published new twice only with the same
source, and a revision repeated only unchanged: the uncommitted window, the
copies the dead publisher had decided and flushed but not yet journalled, which
its successor decides again (bounded here by the copies handed over in the ten
seconds before the kill). Takeover time: from the kill to the first alert of an
item released after it whose article id lies in a partition the dead poller's
publisher held (it waits for the group's session timeout, 10 s, and the restore).
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
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
    Results,
    corpus,
    env_number,
    kill,
    pipeline_config,
    pipeline_state,
    read_records,
    read_topic,
    restores,
    revisions_at_once,
    wait_all_alerted,
)
from tests.support import MonitorProcess, wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.kafka]

ARTICLES = int(env_number("MONITOR_FAILOVER_POLLER_ARTICLES", 90))
RATE = env_number("MONITOR_FAILOVER_POLLER_RATE", 2.0)
FEEDS = 4
SYNDICATION_LAG_S = 15.0
#: How far before the kill a handed-over copy may still be in the uncommitted window.
WINDOW_S = 10.0
DRAIN_LIMIT_S = 240.0
#: The stage whose state the scenario kills and restores.
STAGE = "publisher"


@dataclass
class SyndicatedSite(GrowingSite):
    """A growing site plus feed number ``feeds``, the syndication feed: every item
    again, ``lag_s`` after it appeared in its own feed."""

    lag_s: float = SYNDICATION_LAG_S

    def visible(self, feed: int) -> list[Article]:
        if feed < self.feeds:
            return super().visible(feed)
        released = int((time.monotonic() - self.started - self.lag_s) * self.rate) + 1
        return self.items[:max(released, 0)]


def owners(pollers: list[MonitorProcess]) -> dict[int, int]:
    """Which poller (index) holds each publisher partition now: the one that restored
    it last. A partition is restored on every new assignment, as soon as a copy
    arrives, which the steady stream makes a matter of a second."""
    latest: dict[int, tuple[str, int]] = {}
    for n, poller in enumerate(pollers):
        for restore in restores(poller, STAGE):
            partition, when = restore.partition, restore.time
            if partition not in latest or when > latest[partition][0]:
                latest[partition] = (when, n)
    return {partition: n for partition, (_, n) in latest.items()}


def partitions_of(bootstrap: str, topic: str) -> dict[str, int]:
    """The partition of each key on ``topic``."""
    return {r.key: r.partition for r in read_records(bootstrap, topic) if r.key is not None}


@dataclass(frozen=True)
class Publications:
    """What the articles topic says about each article id, in order."""

    #: Articles whose first record lists one source (a publication as new).
    first_sources: dict[str, str]
    #: Records listing one source other than the first: a later feed's copy taken
    #: for a new article (the seen state was lost). Must be none.
    wrong_new: int
    #: Records repeating an earlier one unchanged (the uncommitted window).
    repeats: int
    #: Articles with a record listing two sources (their revision).
    revised: set[str]


def publications(records: list[Article]) -> Publications:
    by_id: dict[str, list[Article]] = defaultdict(list)
    for article in records:
        by_id[article.id].append(article)
    first_sources: dict[str, str] = {}
    wrong_new = repeats = 0
    revised: set[str] = set()
    for article_id, copies in by_id.items():
        if len(copies[0].sources) == 1:
            first_sources[article_id] = copies[0].sources[0].feed_id
        seen: set[tuple[str, ...]] = set()
        for copy in copies:
            feeds = tuple(s.feed_id for s in copy.sources)
            if feeds in seen:
                repeats += 1
            elif len(feeds) == 1 and feeds[0] != first_sources.get(article_id):
                wrong_new += 1
            if len(feeds) == 2:
                revised.add(article_id)
            seen.add(feeds)
    return Publications(first_sources, wrong_new, repeats, revised)


def poller_config(folder: Path, bootstrap: str, topics: KafkaTopics, receiver_url: str,
                  feeds: list[tuple[str, str]]) -> Path:
    """A poller on its own "machine": its own state folder, the shared feed list."""
    config = pipeline_config(folder, bootstrap, topics, receiver_url, feeds=feeds,
                             state_dir=folder / "state",
                             poller={"sharing": "kafka", "interval_jitter": 0.0})
    config.with_name("feeds.yaml").write_text(yaml.safe_dump(
        {"feeds": [{"id": f, "url": u, "interval_s": 1} for f, u in feeds]}))
    return config


def test_a_dead_poller_machine_is_taken_over_with_its_published_articles(
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_topics: KafkaTopics,
    launcher: Launcher,
    receiver: CountingReceiver,
    results: Results,
) -> None:
    items = corpus(ARTICLES, start=500_000)
    site = SyndicatedSite(items, feeds=FEEDS, rate=RATE)
    server = GrowingServer(site)
    with serving(server):
        feeds = [*server.feed_urls(), ("syndic", f"{server.base_url}/feed{FEEDS}.xml")]
        folders = [tmp_path / f"machine-{n}" for n in range(3)]
        configs = [poller_config(folder, kafka_bootstrap, kafka_topics, receiver.url, feeds)
                   for folder in folders]
        sink = revisions_at_once(pipeline_config(tmp_path / "machine-sink", kafka_bootstrap,
                                                 kafka_topics, receiver.url))
        launcher.start(sink, "run", "--roles", "nlp")
        launcher.start(sink, "run", "--roles", "alerts")
        pollers = [launcher.start(config, "run", "--roles", "poller") for config in configs]
        site.started = time.monotonic()
        wait_for(lambda: len(receiver.articles_alerted()) >= ARTICLES // 3, DRAIN_LIMIT_S,
                 "a third of the items alerted before the kill")
        held = owners(pollers)
        assert held, "no poller's publisher restored a partition"
        victim = held[min(held)]
        taken = {partition for partition, n in held.items() if n == victim}
        lines_at_kill = [len(p.output().splitlines()) for p in pollers]
        killed_at = time.monotonic()
        kill(pollers[victim])
        shutil.rmtree(folders[victim] / "state")
        by_url: dict[str, str] = {}

        def all_published() -> bool:
            published = read_topic(kafka_bootstrap, kafka_topics.articles, idle_s=1.0)
            by_url.update((a.url, a.id) for a in (decode(v, Article) for v in published))
            return {a.url for a in items} <= set(by_url)

        try:
            wait_for(all_published, DRAIN_LIMIT_S, "every feed item published")
            wait_all_alerted(receiver, set(by_url.values()), DRAIN_LIMIT_S, "after the takeover")
        except AssertionError as exc:  # say where the stream stopped
            missing = set(by_url.values()) - receiver.articles_alerted()
            where = partitions_of(kafka_bootstrap, kafka_topics.articles_found)
            stuck = sorted({where.get(i, -1) for i in missing})
            state = pipeline_state(kafka_bootstrap, kafka_topics, receiver, launcher)
            raise AssertionError(f"{exc}\nvictim {victim}; partitions of the missing "
                                 f"articles: {stuck}\n{state}") from exc
        last_syndicated = site.released_at(ARTICLES - 1) + SYNDICATION_LAG_S
        time.sleep(max(0.0, last_syndicated - time.monotonic()) + 10.0)

    records = [decode(v, Article) for v in read_topic(kafka_bootstrap, kafka_topics.articles)]
    found = publications(records)
    partition = partitions_of(kafka_bootstrap, kafka_topics.articles_found)
    restored_after = {p for n, poller in enumerate(pollers) if n != victim
                      for p in (r.partition for r in restores(
                          poller, STAGE, slice(lines_at_kill[n], None)))}
    first_alert = receiver.first_by_article
    released_after = [by_url[a.url] for i, a in enumerate(items) if site.released_at(i) > killed_at]
    takeover = [first_alert[i] - killed_at for i in released_after
                if partition.get(i) in taken and i in first_alert]
    # The articles that test the restore: published (alerted) before the kill, in a
    # partition taken over, their syndicated copy released after the kill.
    tested = [by_url[a.url] for i, a in enumerate(items)
              if partition.get(by_url[a.url]) in taken
              and first_alert.get(by_url[a.url], killed_at) < killed_at
              and site.released_at(i) + SYNDICATION_LAG_S > killed_at]
    window = sum(1 for i in range(ARTICLES)
                 if killed_at - WINDOW_S <= site.released_at(i) <= killed_at
                 or killed_at - WINDOW_S <= site.released_at(i) + SYNDICATION_LAG_S <= killed_at)
    results.record(
        "failover-poller", items=ARTICLES, feeds=FEEDS + 1, pollers=len(pollers),
        records_published=len(records), articles_new=len(found.first_sources),
        revised=len(found.revised), wrong_new=found.wrong_new, repeats=found.repeats,
        window_bound=window, partitions_taken=sorted(taken),
        partitions_restored_after_kill=sorted(restored_after), restore_tested=len(tested),
        takeover_s=min(takeover) if takeover else None,
        first_alert_after_kill_s=min(
            (first_alert[i] - killed_at for i in released_after if i in first_alert),
            default=None),
        changelog_records=len(read_topic(kafka_bootstrap, kafka_topics.articles_seen)),
    )
    assert taken <= restored_after, "no surviving poller restored the dead one's partitions"
    assert tested, "no article tested the restore (kill came too late in the stream)"
    assert found.wrong_new == 0, "later feeds' copies published as new articles"
    assert set(found.first_sources) == set(by_url.values())
    assert found.revised == set(by_url.values()), "articles without their revision"
    assert found.repeats <= window
    assert takeover, "no item released after the kill in a taken partition was alerted"
