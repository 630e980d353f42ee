"""End-to-end benchmark: articles through NLP → alert rules → signed webhook.

Measured in one run, so the ratios hold on a noisy machine:

* baseline: bare Kafka transport, producing and consuming the same encoded
  articles with the project's KafkaBus (the ceiling no pipeline can beat);
* embedded: the pipeline in one process on the in-memory bus;
* kafka burst: the daemon (``monitor run --roles nlp,alerts`` as a separate
  process) draining a backlog of articles from a real broker, until the
  webhook receiver has an alert for every article;
* kafka latency: articles offered at a steady rate; for each, the time from
  being published onto Kafka to its first alert arriving at the webhook;
* kafka, all stages: a loopback HTTP server serves ``--feeds`` RSS feeds (whole
  text in ``content:encoded``, so no page fetches) and the daemon
  (``monitor run --roles poller,nlp,alerts``, one separate process) polls them
  every ``--poll-interval`` seconds. Throughput: from the moment the feed files
  holding the burst go live (after a warm-up item was alerted, so start-up and
  the spaCy load are excluded) until the webhook has an alert for every
  article. Latency: articles added to the feeds at a steady rate; for each,
  the time from the feed file containing it going live to its first alert.
  Both include the wait for the poller's next poll, up to one poll interval.

Usage::

    .venv/bin/python bench/bench_pipeline.py [--articles 400] [--rate 10] [--latency-articles 200]
        [--feeds 4] [--poll-interval 1.0]

Uses ``$MONITOR_TEST_KAFKA`` or starts ``scripts/kafka-local``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus import articles  # noqa: E402
from bench.feedsite import BenchFeeds  # noqa: E402
from monitor.bus.codec import TopicNames, encode  # noqa: E402
from monitor.bus.kafka import KafkaBus  # noqa: E402
from monitor.bus.memory import MemoryBus  # noqa: E402
from monitor.bus.settings import KafkaSettings  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.daemon import Daemon  # noqa: E402
from monitor.demo import ReceivedAlert, StaticSite, WebhookReceiver, serving  # noqa: E402
from monitor.messages import Article  # noqa: E402
from monitor.roles import STAGE_NAMES  # noqa: E402
from tests.support import MonitorProcess, wait_for, write_config  # noqa: E402

#: Alert-sink settings that keep every benchmark article its own story.
NO_DEDUP = {
    "dedup": {"similarity": 100, "rate_limit_count": 1_000_000, "rate_limit_per_s": 1},
}


def article_id(alert: dict[str, Any]) -> str:
    """Key alerts by article id (articles the benchmark put on Kafka itself)."""
    return str(alert["article"]["id"])


def article_url(alert: dict[str, Any]) -> str:
    """Key alerts by article URL (articles the poller built; their ids are hashes)."""
    return str(alert["article"]["url"])


class FirstAlerts:
    """Records when the first alert for each article reached the webhook."""

    def __init__(self, key: Callable[[dict[str, Any]], str] = article_id) -> None:
        self.first_seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.key = key

    def __call__(self, received: ReceivedAlert) -> None:
        now = time.monotonic()
        alert = received.payload.get("alert", received.payload)
        with self.lock:
            self.first_seen.setdefault(self.key(alert), now)

    def count(self, prefix: str = "") -> int:
        with self.lock:
            return sum(1 for k in self.first_seen if k.startswith(prefix))

    def count_among(self, keys: Iterable[str]) -> int:
        """How many of ``keys`` have had an alert."""
        with self.lock:
            return sum(1 for k in keys if k in self.first_seen)


def bootstrap_address() -> str:
    if address := os.environ.get("MONITOR_TEST_KAFKA"):
        return address
    started = subprocess.run(
        [str(REPO / "scripts" / "kafka-local"), "start"], capture_output=True, text=True, check=True
    )
    return started.stdout.strip().splitlines()[-1]


def unique_topics() -> TopicNames:
    tag = uuid.uuid4().hex[:8]
    return TopicNames(**{k: f"{v}.bench.{tag}" for k, v in TopicNames().model_dump().items()})


def kafka_bus_config(address: str, topics: TopicNames) -> dict[str, Any]:
    """The daemon's bus section: real Kafka, this run's own topics and consumer groups."""
    tag = topics.articles.rsplit(".", 1)[-1]
    return {
        "kind": "kafka",
        "kafka": {"bootstrap_servers": address},
        "topics": topics.model_dump(),
        "groups": {r: f"bench-{r}-{tag}" for r in STAGE_NAMES},
    }


def bench_transport(settings: KafkaSettings, count: int) -> float:
    """Articles/s for produce + consume of encoded articles on a bare topic."""
    topic = f"bench.transport.{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(settings)
    bus.ensure_topics([topic])
    payloads = [(a.id, encode(a)) for a in articles(count, seed=1)]
    consumer = bus.consumer([topic], f"bench-{topic}")
    consumer.poll(1.0)  # join the group before timing
    producer = bus.producer()
    started = time.perf_counter()
    for key, value in payloads:
        producer.send(topic, key, value)
    producer.flush()
    seen = 0
    while seen < count:
        batch = consumer.poll(1.0)
        consumer.commit(batch)
        seen += len(batch)
    elapsed = time.perf_counter() - started
    consumer.close()
    producer.close()
    bus.close()
    return count / elapsed


def bench_embedded(folder: Path, count: int) -> float:
    """Articles/s for the daemon in one process on the in-memory bus (roles on threads)."""
    recorder = FirstAlerts()
    receiver = WebhookReceiver(on_alert=recorder)
    with serving(receiver):
        config = write_config(folder, receivers=[receiver.url], extra={"alerts": NO_DEDUP})
        settings = load_settings(config, environ={})
        bus = MemoryBus()
        bus.ensure_topics(settings.bus.topics.all())
        daemon = Daemon(settings, ("nlp", "alerts"), bus=bus)
        runner = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
        runner.start()
        producer = bus.producer()
        try:
            warm = next(articles(1, seed=3, start=80_000_000))
            producer.send(settings.bus.topics.articles, warm.id, encode(warm))
            wait_for(lambda: recorder.count("bench-8") >= 1, 120, "the warm-up alert")
            started = time.monotonic()
            for article in articles(count, seed=2, start=10_000_000):
                producer.send(settings.bus.topics.articles, article.id, encode(article))
            wait_for(lambda: recorder.count("bench-1") >= count, 600, "embedded alerts")
            elapsed = time.monotonic() - started
        finally:
            daemon.request_stop()
            runner.join()
    return count / elapsed


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def latency_summary(prefix: str, latencies: list[float]) -> dict[str, float]:
    """``<prefix>_p50_s``, ``_p99_s`` and ``_max_s`` of the given latencies."""
    ordered = sorted(latencies)
    return {
        f"{prefix}_p50_s": percentile(ordered, 50),
        f"{prefix}_p99_s": percentile(ordered, 99),
        f"{prefix}_max_s": ordered[-1],
    }


def bench_kafka(
    folder: Path, address: str, count: int, rate: float, latency_count: int
) -> dict[str, float]:
    """Burst throughput and steady-rate latency through the daemon on real Kafka."""
    topics = unique_topics()
    recorder = FirstAlerts()
    receiver = WebhookReceiver(on_alert=recorder)
    with serving(receiver):
        config = write_config(
            folder,
            receivers=[receiver.url],
            bus=kafka_bus_config(address, topics),
            extra={"alerts": NO_DEDUP, "ops": {"http_enabled": False}},
        )
        kafka = KafkaBus(KafkaSettings(bootstrap_servers=(address,)))
        kafka.ensure_topics(topics.all())
        producer = kafka.producer()
        daemon = MonitorProcess(config, "run", "--roles", "nlp,alerts")
        try:
            warm = next(articles(1, seed=3, start=90_000_000))
            producer.send(topics.articles, warm.id, encode(warm))
            producer.flush()
            wait_for(lambda: recorder.count("bench-9") >= 1, 180, "the warm-up alert")

            burst = list(articles(count, seed=4, start=20_000_000))
            started = time.monotonic()
            for article in burst:
                producer.send(topics.articles, article.id, encode(article))
            producer.flush()
            wait_for(lambda: recorder.count("bench-2") >= count, 600, "alerts for the burst")
            burst_rate = count / (time.monotonic() - started)

            sent_at: dict[str, float] = {}
            for article in articles(latency_count, seed=5, start=30_000_000):
                producer.send(topics.articles, article.id, encode(article))
                producer.flush()
                sent_at[article.id] = time.monotonic()
                time.sleep(1.0 / rate)
            wait_for(lambda: recorder.count("bench-3") >= latency_count, 300, "latency alerts")
        finally:
            daemon.stop()
            producer.close()
            kafka.close()
    latencies = [recorder.first_seen[k] - t for k, t in sent_at.items()]
    return {"kafka_burst_articles_per_s": burst_rate, **latency_summary("latency", latencies)}


@dataclass(frozen=True)
class AllStagesRun:
    """What the all-stages measurement offers the daemon, and how it polls."""

    count: int
    latency_count: int
    rate: float
    feeds: int
    poll_interval_s: float


def poller_section(run: AllStagesRun) -> dict[str, Any]:
    """Poller settings: the loopback feeds stand in for ``run.feeds`` separate sites."""
    per_feed = -(-run.count // run.feeds)
    return {
        "per_host_delay_s": 0,  # one loopback host serves every feed: no politeness pause
        "per_host_concurrency": run.feeds,
        "max_entries_per_feed": max(500, per_feed + 1),
    }


def all_stages_config(
    folder: Path, address: str, receiver_url: str, feeds: BenchFeeds, base_url: str,
    run: AllStagesRun,
) -> Path:
    """monitor.yaml (Kafka on fresh topics) and feeds.yaml (fixed poll interval)."""
    topics = unique_topics()
    kafka = KafkaBus(KafkaSettings(bootstrap_servers=(address,)))
    kafka.ensure_topics(topics.all())
    kafka.close()
    config = write_config(
        folder,
        receivers=[receiver_url],
        bus=kafka_bus_config(address, topics),
        extra={"alerts": NO_DEDUP, "ops": {"http_enabled": False}, "poller": poller_section(run)},
    )
    listing = feeds.feed_list(base_url, run.poll_interval_s)
    (folder / "feeds.yaml").write_text(yaml.safe_dump(listing))
    return config


def publish_burst(feeds: BenchFeeds, burst: list[Article]) -> dict[str, float]:
    """Spread ``burst`` over the feeds and write them all; when each URL went live."""
    feeds.clear()
    for index, article in enumerate(burst):
        feeds.add(feeds.feed_for(index), article)
    live = feeds.write_all()
    return {a.url: live[feeds.feed_for(i)] for i, a in enumerate(burst)}


def publish_steadily(
    feeds: BenchFeeds, stream: Iterable[Article], rate: float
) -> dict[str, float]:
    """Add one article every ``1/rate`` s, rewriting its feed; when each URL went live."""
    feeds.clear()  # the burst falls off the feeds as each is rewritten
    live_at: dict[str, float] = {}
    for index, article in enumerate(stream):
        feed_id = feeds.feed_for(index)
        feeds.add(feed_id, article)
        live_at[article.url] = feeds.write(feed_id)
        time.sleep(1.0 / rate)
    return live_at


def wait_for_alerts(
    recorder: FirstAlerts, keys: list[str], timeout: float, what: str, daemon: MonitorProcess
) -> None:
    """Wait until every key has an alert; on timeout, say how many never did and
    show the end of the daemon's log."""
    try:
        wait_for(lambda: recorder.count_among(keys) >= len(keys), timeout, what)
    except AssertionError:
        missing = len(keys) - recorder.count_among(keys)
        tail = "".join(daemon.output().splitlines(keepends=True)[-40:])
        print(f"{what}: {missing} of {len(keys)} never alerted; daemon log:\n{tail}",
              file=sys.stderr)
        raise


def drive_all_stages(
    feeds: BenchFeeds, recorder: FirstAlerts, daemon: MonitorProcess, run: AllStagesRun
) -> tuple[float, dict[str, float]]:
    """Burst throughput (articles/s), then live times of the steady-rate articles."""
    burst = list(articles(run.count, seed=7, start=40_000_000))
    started = time.monotonic()
    burst_live = publish_burst(feeds, burst)
    wait_for_alerts(recorder, list(burst_live), 600, "all-stages burst alerts", daemon)
    with recorder.lock:
        finished = max(recorder.first_seen[url] for url in burst_live)
    stream = articles(run.latency_count, seed=8, start=50_000_000)
    live_at = publish_steadily(feeds, stream, run.rate)
    wait_for_alerts(recorder, list(live_at), 300, "all-stages latency alerts", daemon)
    return run.count / (finished - started), live_at


def bench_all_stages(folder: Path, address: str, run: AllStagesRun) -> dict[str, float]:
    """Feeds on loopback → poller → Kafka → NLP → alerts → webhook, one daemon process."""
    recorder = FirstAlerts(key=article_url)
    receiver = WebhookReceiver(on_alert=recorder)
    feeds = BenchFeeds(folder / "site", run.feeds)
    warm = next(articles(1, seed=6, start=60_000_000))
    feeds.add(feeds.ids[0], warm)
    feeds.write_all()
    site = StaticSite(feeds.root)
    with serving(receiver), serving(site):
        config = all_stages_config(folder, address, receiver.url, feeds, site.base_url, run)
        daemon = MonitorProcess(config, "run", "--roles", "poller,nlp,alerts")
        try:
            wait_for_alerts(recorder, [warm.url], 180, "the all-stages warm-up alert", daemon)
            rate, live_at = drive_all_stages(feeds, recorder, daemon, run)
        finally:
            daemon.stop()
    latencies = [recorder.first_seen[url] - t for url, t in live_at.items()]
    return {"kafka_all_stages_articles_per_s": rate,
            **latency_summary("all_stages_latency", latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--rate", type=float, default=10.0, help="articles/s for the latency run")
    parser.add_argument("--latency-articles", type=int, default=200)
    parser.add_argument("--feeds", type=int, default=4, help="RSS feeds for the all-stages run")
    parser.add_argument(
        "--poll-interval", type=float, default=1.0, help="seconds between polls of each feed"
    )
    args = parser.parse_args()
    run = AllStagesRun(
        args.articles, args.latency_articles, args.rate, args.feeds, args.poll_interval
    )
    address = bootstrap_address()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        transport = bench_transport(KafkaSettings(bootstrap_servers=(address,)), args.articles)
        embedded = bench_embedded(folder / "embedded", args.articles)
        kafka = bench_kafka(
            folder / "kafka", address, args.articles, args.rate, args.latency_articles
        )
        all_stages = bench_all_stages(folder / "all-stages", address, run)
    results = {
        "articles": args.articles,
        "baseline_transport_articles_per_s": transport,
        "embedded_articles_per_s": embedded,
        **kafka,
        "kafka_vs_transport": kafka["kafka_burst_articles_per_s"] / transport,
        "kafka_vs_embedded": kafka["kafka_burst_articles_per_s"] / embedded,
        "feeds": args.feeds,
        "poll_interval_s": args.poll_interval,
        **all_stages,
        "all_stages_vs_transport": all_stages["kafka_all_stages_articles_per_s"] / transport,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
