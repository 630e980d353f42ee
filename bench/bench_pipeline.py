"""End-to-end benchmark: articles through NLP → alert rules → signed webhook.

Measured in one run, so the ratios hold on a noisy machine:

* baseline: bare Kafka transport, producing and consuming the same encoded
  articles with the project's KafkaBus (the ceiling no pipeline can beat);
* embedded: the pipeline in one process on the in-memory bus;
* kafka burst: the daemon (``monitor run --roles nlp,alerts`` as a separate
  process) draining a backlog of articles from a real broker, until the
  webhook receiver has an alert for every article;
* kafka latency: articles offered at a steady rate; for each, the time from
  being published onto Kafka to its first alert arriving at the webhook.

Usage::

    .venv/bin/python bench/bench_pipeline.py [--articles 400] [--rate 10] [--latency-articles 200]

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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus import articles  # noqa: E402
from monitor.bus.codec import TopicNames, encode  # noqa: E402
from monitor.bus.kafka import KafkaBus  # noqa: E402
from monitor.bus.memory import MemoryBus  # noqa: E402
from monitor.bus.settings import KafkaSettings  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.daemon import Daemon  # noqa: E402
from monitor.demo import ReceivedAlert, WebhookReceiver, serving  # noqa: E402
from tests.support import MonitorProcess, wait_for, write_config  # noqa: E402

#: Alert-sink settings that keep every benchmark article its own story.
NO_DEDUP = {
    "dedup": {"similarity": 100, "rate_limit_count": 1_000_000, "rate_limit_per_s": 1},
}


class FirstAlerts:
    """Records when the first alert for each article reached the webhook."""

    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, received: ReceivedAlert) -> None:
        now = time.monotonic()
        alert = received.payload.get("alert", received.payload)
        article_id = alert["article"]["id"]
        with self.lock:
            self.first_seen.setdefault(article_id, now)

    def count(self, prefix: str = "") -> int:
        with self.lock:
            return sum(1 for k in self.first_seen if k.startswith(prefix))


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


def bench_kafka(
    folder: Path, address: str, count: int, rate: float, latency_count: int
) -> dict[str, float]:
    """Burst throughput and steady-rate latency through the daemon on real Kafka."""
    topics = unique_topics()
    recorder = FirstAlerts()
    receiver = WebhookReceiver(on_alert=recorder)
    tag = topics.articles.rsplit(".", 1)[-1]
    bus_config = {
        "kind": "kafka",
        "kafka": {"bootstrap_servers": address},
        "topics": topics.model_dump(),
        "groups": {r: f"bench-{r}-{tag}" for r in ("poller", "nlp", "alerts", "delivery")},
    }
    with serving(receiver):
        config = write_config(
            folder,
            receivers=[receiver.url],
            bus=bus_config,
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
    latencies = sorted(recorder.first_seen[k] - t for k, t in sent_at.items())
    return {
        "kafka_burst_articles_per_s": burst_rate,
        "latency_p50_s": percentile(latencies, 50),
        "latency_p99_s": percentile(latencies, 99),
        "latency_max_s": latencies[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--rate", type=float, default=10.0, help="articles/s for the latency run")
    parser.add_argument("--latency-articles", type=int, default=200)
    args = parser.parse_args()
    address = bootstrap_address()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        transport = bench_transport(KafkaSettings(bootstrap_servers=(address,)), args.articles)
        embedded = bench_embedded(folder / "embedded", args.articles)
        kafka = bench_kafka(
            folder / "kafka", address, args.articles, args.rate, args.latency_articles
        )
    results = {
        "articles": args.articles,
        "baseline_transport_articles_per_s": transport,
        "embedded_articles_per_s": embedded,
        **kafka,
        "kafka_vs_transport": kafka["kafka_burst_articles_per_s"] / transport,
        "kafka_vs_embedded": kafka["kafka_burst_articles_per_s"] / embedded,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
