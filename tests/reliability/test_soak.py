"""Sustained load through NLP → alert rules → signed webhook on a real broker.

Articles are offered onto the articles topic at ``MONITOR_SOAK_RATE``
articles/s (default 100) for ``MONITOR_SOAK_S`` seconds (default 120): a news
stream in which one article in ``MONITOR_SOAK_RELEVANT_EVERY`` (default 10) is
about an election and interference (2–4 alerts each) and the rest are neutral
news. The NLP and alert roles run as separate ``monitor run --roles …``
processes. Measured: offered and handled rate, end-to-end latency (published
onto Kafka → first alert at the webhook) p50/p99, RSS of each process sampled
every 2 s, and consumer lag of every group after the run. Expected: every
alert-worthy article alerted, lag back to zero, memory flat (last third of the
samples within a generous margin of the first third — a leak grows without
bound, noise does not). Memory, machine load and latency per minute go to
``soak-series.json`` beside the figures file, and a progress line is printed
every minute (``pytest -s`` shows it), so an hour-long run can be watched and
charted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from tests.kafka_broker import KafkaTopics
from tests.reliability.harness import (
    RESULTS_PATH,
    CountingReceiver,
    Launcher,
    MemorySampler,
    Offerer,
    Results,
    corpus,
    env_number,
    is_alert_worthy,
    news_stream,
    percentile,
    pipeline_config,
    pipeline_state,
    series_by_window,
    wait_all_alerted,
)

SOAK_S = env_number("MONITOR_SOAK_S", 120.0)
RATE = env_number("MONITOR_SOAK_RATE", 100.0)
RELEVANT_EVERY = int(env_number("MONITOR_SOAK_RELEVANT_EVERY", 10))
#: Where the per-minute series of the last soak is written.
SERIES_PATH = RESULTS_PATH.parent / "soak-series.json"

# The time limit follows the soak's length: the stream, then up to 20 minutes of
# warm-up, drain and shutdown.
pytestmark = [pytest.mark.reliability, pytest.mark.kafka,
              pytest.mark.timeout(int(SOAK_S) + 1200)]


def test_sustained_load_holds_throughput_memory_and_lag(
    tmp_path: Path, kafka_bootstrap: str, kafka_topics: KafkaTopics, launcher: Launcher,
    receiver: CountingReceiver, results: Results,
) -> None:
    items = news_stream(int(SOAK_S * RATE), start=700_000, relevant_every=RELEVANT_EVERY)
    relevant = [a for a in items if is_alert_worthy(a)]
    config = pipeline_config(tmp_path, kafka_bootstrap, kafka_topics, receiver.url)
    processes = {role: launcher.start(config, "run", "--roles", role) for role in ("nlp", "alerts")}
    warm = corpus(3, start=690_000)  # below the stream's serials, however long it runs
    Offerer(kafka_bootstrap, kafka_topics.articles, warm, 10).start().close()
    wait_all_alerted(receiver, {a.id for a in warm}, 180, "warm-up articles")
    with MemorySampler({r: p.popen.pid for r, p in processes.items()}) as memory:
        started = time.monotonic()
        offerer = Offerer(kafka_bootstrap, kafka_topics.articles, items, RATE).start()
        while not offerer.done.wait(60):
            print(progress(started, offerer, receiver, memory), flush=True)
        offerer.close()
        offered_s = time.monotonic() - started
        try:
            wait_all_alerted(receiver, {a.id for a in relevant}, 300, "the soak articles")
        except AssertionError:
            state = pipeline_state(kafka_bootstrap, kafka_topics, receiver, launcher)
            print(state)
            results.record("soak", status="FAILED", diagnosis=state.splitlines()[:6])
            raise
        drained_s = time.monotonic() - started
    latencies = [receiver.first_by_article[a.id] - offerer.sent_at[a.id] for a in relevant]
    sent = [offerer.sent_at[a.id] for a in relevant]
    series = series_by_window(memory.timeline, list(zip(sent, latencies, strict=True)),
                              started, 60.0)
    SERIES_PATH.parent.mkdir(parents=True, exist_ok=True)
    SERIES_PATH.write_text(json.dumps({"rate": RATE, "duration_s": SOAK_S,
                                       "per_minute": series}, indent=1) + "\n")
    tally = receiver.tally()
    flat = {role: memory.thirds_mib(role) for role in processes}
    results.record(
        "soak", duration_s=SOAK_S, articles_in=len(items), alert_worthy=len(relevant),
        offered_per_s=offerer.offered_rate(),
        delivered_articles_per_s=len(items) / drained_s, drain_after_offer_s=drained_s - offered_s,
        latency_p50_s=percentile(latencies, 50), latency_p99_s=percentile(latencies, 99),
        latency_max_s=max(latencies), alerts_delivered=len(tally.keys), posts=tally.posts,
        duplicates_by_key=tally.duplicates, peak_rss_mib=memory.peak_mib(),
        rss_first_last_third_mib={r: [round(a, 1), round(b, 1)] for r, (a, b) in flat.items()},
        rss_samples=sum(len(s) for s in memory.samples.values()),
    )
    assert tally.duplicates == 0
    assert tally.bad_signatures == 0
    for role, (first, last) in flat.items():
        assert last <= first * 1.5 + 32, f"{role} RSS grew from {first:.0f} to {last:.0f} MiB"
    # Lag back to zero: stop the daemons (they commit what they finished), then
    # join each of their groups and count what is left past the committed offsets.
    for process in processes.values():
        assert process.stop() == 0
    lags = {
        group: committed_lag(kafka_bootstrap, topic, group)
        for group, topic in (
            (kafka_topics.group("nlp"), kafka_topics.articles),
            (kafka_topics.group("alerts"), kafka_topics.statements),
            (kafka_topics.group("delivery"), kafka_topics.alerts),
        )
    }
    results.record("soak lag after stop", consumer_lag=lags)
    assert not any(lags.values()), lags


def progress(
    started: float, offerer: Offerer, receiver: CountingReceiver, memory: MemorySampler
) -> str:
    """One line on a running soak: time, offered, alerted, last RSS per process, load."""
    last = memory.timeline[-1] if memory.timeline else None
    rss = {n: round(v / 1024) for n, v in last.rss_kib.items()} if last else {}
    return (
        f"soak t={time.monotonic() - started:.0f}s offered={len(offerer.sent_at)} "
        f"alerted_articles={len(receiver.articles_alerted())} rss_mib={rss} "
        f"load1={last.load1 if last else 0.0}"
    )


def committed_lag(bootstrap: str, topic: str, group: str) -> int:
    """Records of ``topic`` past ``group``'s committed offsets (join the group, count)."""
    bus = KafkaBus(KafkaSettings(bootstrap_servers=(bootstrap,)))
    consumer = bus.consumer([topic], group)
    try:
        deadline = time.monotonic() + 60
        taken = consumer.poll(2.0, max_records=1)
        while not consumer.lag() and time.monotonic() < deadline:  # still joining
            taken = [*taken, *consumer.poll(1.0, max_records=1)]
        assert consumer.lag(), f"never assigned partitions of {topic} in group {group}"
        return sum(consumer.lag().values()) + len(taken)
    finally:
        consumer.close()
        bus.close()
