"""End-to-end benchmark: articles through poller → NLP → alert rules → signed webhook.

Measured in one run, so the ratios hold on a noisy machine:

* baseline: bare Kafka transport, producing and consuming the same encoded
  articles with the project's KafkaBus (the ceiling no pipeline can beat);
* embedded: the pipeline in one process on the in-memory bus;
* kafka burst (topic-fed): the daemon's NLP and alerts roles draining a backlog
  of alert-dense articles from a real broker, until the webhook receiver has an
  alert for every article;
* kafka latency (topic-fed): a 1-in-10 mix of articles offered at ``--rate``
  (default 100/s); for each alert-worthy one, the time from being published onto
  Kafka to its first notification at the webhook (``group_wait_s: 0``);
* kafka, all stages: a loopback HTTP server serves ``--feeds`` RSS feeds (whole
  text in ``content:encoded``, so no page fetches) polled every
  ``--poll-interval`` seconds. Throughput, for the alert-dense corpus and for the
  1-in-10 mix: from the moment the feed files holding the burst go live (after a
  warm-up item was alerted, so start-up and the spaCy load are excluded) until
  the webhook has an alert for every alert-worthy article, with the CPU time
  each process (and the processes it started) used meanwhile, per article
  (``all_stages_cpu_ms_per_article``: steadier than the rates on a shared
  machine, and it shows which role a change made cheaper). Latency: alert-dense
  articles added to the feeds at ``--all-stages-rate``; for each, the time from
  the feed file containing it going live to its first alert (includes the wait
  for the next poll, up to one poll interval);
* scale-out: the alerts role alone, one process and then two (each with its
  own state folder), reading the same backlog of tagged alert-dense articles;
  articles/s from the first notification at the webhook to the last, with how
  busy the machine was meanwhile and, for two processes, how many partitions of
  rule matching and delivery the process holding the story decisions had.
  ``--scale-out-repeats`` pairs (default 5), medians reported.

``--layout split`` (the default) runs each role in a process of its own, as a
deployment that scales out does (and so the roles use both cores);
``--layout split-2`` the same with two alerts processes; ``--layout single``
runs them in one process. Each process has a state folder of its own.

The daemon processes import the monitor the way this script does: from the
sources, or, run with ``PYTHONPATH=$(scripts/build-compiled)``, from the build
whose NLP hot path mypyc compiled (how a compiled install runs). The result's
``nlp_build`` says which, checked in the NLP process itself.

Usage::

    [PYTHONPATH=$(scripts/build-compiled)] \
    .venv/bin/python bench/bench_pipeline.py [--articles 400] [--mix-articles 3000]
        [--rate 100] [--latency-articles 2000] [--scale-out-articles 1000]
        [--scale-out-repeats 5]
        [--layout split|split-2|single] [--feeds 4] [--poll-interval 1.0]

Uses ``$MONITOR_TEST_KAFKA`` or starts ``scripts/kafka-local``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
# Appended: a build named by PYTHONPATH must come before the sources.
sys.path.append(str(REPO))

from bench.corpus import articles, news_mix  # noqa: E402
from bench.feedsite import BenchFeeds  # noqa: E402
from monitor.bus.codec import TopicNames, encode  # noqa: E402
from monitor.bus.kafka import KafkaBus  # noqa: E402
from monitor.bus.memory import MemoryBus  # noqa: E402
from monitor.bus.settings import KafkaSettings  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.daemon import Daemon  # noqa: E402
from monitor.demo import ReceivedAlert, StaticSite, WebhookReceiver, serving  # noqa: E402
from monitor.messages import Article  # noqa: E402
from monitor.ops.metrics import build_labels  # noqa: E402
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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and its live descendants (the
    poller's parse pool), read from /proc; 0 for a process that is gone."""
    clock_ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name, which may hold spaces and parentheses.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while the table was read
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, total = [pid], 0
    while tree:
        current = tree.pop()
        total += used.get(current, 0)
        tree.extend(child for child, parent in parents.items() if parent == current)
    return total / clock_ticks


def role_names(daemons: list[MonitorProcess]) -> list[str]:
    """Each daemon's ``--roles`` value, numbered when a layout runs a role twice."""
    names = [str(d.popen.args[-1]) if isinstance(d.popen.args, list) else "?" for d in daemons]
    return [f"{name}-{names[:n].count(name) + 1}" if names.count(name) > 1 else name
            for n, name in enumerate(names)]


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


def daemon(config: Path, roles: str) -> MonitorProcess:
    """``monitor run --roles <roles>`` in a process of its own. The source tree is
    its working folder, so it must not come first on its path
    (``PYTHONSAFEPATH``): the monitor is then imported as this script's
    environment says (``PYTHONPATH`` first, then the installed package)."""
    return MonitorProcess(config, "run", "--roles", roles, env={"PYTHONSAFEPATH": "1"})


def nlp_build_of(process: MonitorProcess) -> str:
    """``compiled`` when the process has mypyc-compiled NLP modules loaded, else
    ``python`` (read from the shared objects it maps)."""
    maps = Path(f"/proc/{process.popen.pid}/maps").read_text()
    compiled = any("/monitor/nlp/" in line and line.rstrip().endswith(".so")
                   for line in maps.splitlines())
    return "compiled" if compiled else "python"


def start_roles(config: Path, layout: str) -> list[MonitorProcess]:
    """The daemon as ``layout`` says: ``split``, one process per role (how the roles
    scale out, and how they use more than one core); ``split-2`` the same with two
    alerts processes; ``single``, one process. Each process has a state folder of
    its own, as on a machine of its own."""
    return [daemon(own_state(config, n), roles)
            for n, roles in enumerate(ROLES_BY_LAYOUT[layout])]


def check_nlp_build(daemons: list[MonitorProcess]) -> None:
    """Stop the benchmark if a daemon that tags runs another form of the NLP
    modules than this script imported (the figures would be mislabelled)."""
    expected = build_labels()["nlp"]
    for process in daemons:
        roles = process.popen.args[-1] if isinstance(process.popen.args, list) else ""
        if "nlp" in str(roles) and nlp_build_of(process) != expected:
            raise SystemExit(f"bench: an NLP process runs the {nlp_build_of(process)} form,"
                             f" this script the {expected} one")


def own_state(config: Path, n: int) -> Path:
    """``config`` for the ``n``-th process: the first as it is, the others with a
    state folder of their own."""
    if n == 0:
        return config
    settings = yaml.safe_load(config.read_text())
    settings["state_dir"] = f"{settings['state_dir']}-{n}"
    own = config.with_name(f"monitor-{n}.yaml")
    own.write_text(yaml.safe_dump(settings))
    return own


#: Which ``--roles`` each daemon process of a layout runs (topic-fed runs drop the poller).
ROLES_BY_LAYOUT = {
    "split": ("poller", "nlp", "alerts"),
    "split-2": ("poller", "nlp", "alerts", "alerts"),
    "single": ("poller,nlp,alerts",),
}


def topic_fed(layout: str) -> str:
    """The layout without the poller (articles are put on Kafka by the benchmark)."""
    return layout + "-topic-fed"


ROLES_BY_LAYOUT |= {
    topic_fed(name): tuple(r.replace("poller,", "") for r in roles if r != "poller")
    for name, roles in list(ROLES_BY_LAYOUT.items())
}


def stop_all(daemons: list[MonitorProcess]) -> None:
    for daemon in daemons:
        daemon.stop()


def bench_kafka(
    folder: Path, address: str, count: int, rate: float, latency_count: int, layout: str
) -> dict[str, float]:
    """Burst throughput (alert-dense corpus) and steady-rate latency (1-in-10 mix)
    through the daemon on real Kafka, articles put on the articles topic."""
    topics = unique_topics()
    recorder = FirstAlerts()
    receiver = WebhookReceiver(on_alert=recorder)
    with serving(receiver):
        config = write_config(
            folder,
            receivers=[receiver.url],
            bus=kafka_bus_config(address, topics),
            extra={"alerts": {**NO_DEDUP, "group_wait_s": 0},
                   "ops": {"http_enabled": False}},
        )
        kafka = KafkaBus(KafkaSettings(bootstrap_servers=(address,)))
        kafka.ensure_topics(topics.all())
        producer = kafka.producer()
        daemons = start_roles(config, topic_fed(layout))
        try:
            warm = next(articles(1, seed=3, start=90_000_000))
            producer.send(topics.articles, warm.id, encode(warm))
            producer.flush()
            wait_for(lambda: recorder.count("bench-9") >= 1, 180, "the warm-up alert")
            check_nlp_build(daemons)

            burst = list(articles(count, seed=4, start=20_000_000))
            started = time.monotonic()
            for article in burst:
                producer.send(topics.articles, article.id, encode(article))
            producer.flush()
            wait_for(lambda: recorder.count("bench-2") >= count, 600, "alerts for the burst")
            burst_rate = count / (time.monotonic() - started)

            sent_at: dict[str, float] = {}
            stream = news_mix(latency_count, 10, seed=5, start=30_000_000)
            started = time.monotonic()
            for index, article in enumerate(stream):
                pause = started + index / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                producer.send(topics.articles, article.id, encode(article))
                producer.flush()
                if article.id.startswith("bench-"):
                    sent_at[article.id] = time.monotonic()
            offered = latency_count / (time.monotonic() - started)
            wait_for(lambda: recorder.count_among(sent_at) >= len(sent_at), 300,
                     "latency alerts")
        finally:
            stop_all(daemons)
            producer.close()
            kafka.close()
    latencies = [recorder.first_seen[k] - t for k, t in sent_at.items()]
    return {"kafka_burst_articles_per_s": burst_rate, "latency_offered_per_s": offered,
            **latency_summary("latency", latencies)}


@dataclass(frozen=True)
class AllStagesRun:
    """What the all-stages measurement offers the daemon, and how it polls."""

    count: int
    latency_count: int
    rate: float
    feeds: int
    poll_interval_s: float
    layout: str = "split"
    mix_count: int = 3000


def poller_section(run: AllStagesRun) -> dict[str, Any]:
    """Poller settings: the loopback feeds stand in for ``run.feeds`` separate sites."""
    per_feed = -(-max(run.count, run.mix_count) // run.feeds)
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
    recorder: FirstAlerts, keys: list[str], timeout: float, what: str,
    daemons: list[MonitorProcess],
) -> None:
    """Wait until every key has an alert; on timeout, say how many never did and
    show the end of the daemon's log."""
    try:
        wait_for(lambda: recorder.count_among(keys) >= len(keys), timeout, what)
    except AssertionError:
        missing = len(keys) - recorder.count_among(keys)
        tail = "".join(line for d in daemons for line in d.output().splitlines(keepends=True)[-40:])
        print(f"{what}: {missing} of {len(keys)} never alerted; daemon log:\n{tail}",
              file=sys.stderr)
        raise


@dataclass(frozen=True)
class Burst:
    """One burst through all stages: its rate, and each process's CPU per article."""

    articles_per_s: float
    cpu_ms_per_article: dict[str, float]


def burst_rate(
    feeds: BenchFeeds, recorder: FirstAlerts, daemons: list[MonitorProcess],
    burst: list[Article], what: str,
) -> Burst:
    """Articles/s from the feed files holding ``burst`` going live until every
    alert-worthy article of it has its alert, and the CPU each daemon process
    used meanwhile (read when the last alert arrived), per article."""
    cpu_before = [cpu_seconds(d.popen.pid) for d in daemons]
    started = time.monotonic()
    live = publish_burst(feeds, burst)
    worthy = [a.url for a in burst if a.id.startswith("bench-")]
    wait_for_alerts(recorder, worthy, 900, what, daemons)
    cpu_used = [cpu_seconds(d.popen.pid) - before
                for d, before in zip(daemons, cpu_before, strict=True)]
    with recorder.lock:
        finished = max(recorder.first_seen[url] for url in worthy)
    per_article = {name: round(1000 * used / len(live), 2)
                   for name, used in zip(role_names(daemons), cpu_used, strict=True)}
    return Burst(len(live) / (finished - started), per_article)


def drive_all_stages(
    feeds: BenchFeeds, recorder: FirstAlerts, daemons: list[MonitorProcess], run: AllStagesRun,
) -> tuple[Burst, Burst, dict[str, float]]:
    """Bursts of the alert-dense corpus and of the 1-in-10 mix, then live times of
    the steady-rate articles."""
    dense = burst_rate(feeds, recorder, daemons,
                       list(articles(run.count, seed=7, start=40_000_000)),
                       "all-stages burst alerts")
    mixed = burst_rate(feeds, recorder, daemons,
                       list(news_mix(run.mix_count, 10, seed=9, start=70_000_000)),
                       "all-stages mix alerts")
    stream = articles(run.latency_count, seed=8, start=50_000_000)
    live_at = publish_steadily(feeds, stream, run.rate)
    wait_for_alerts(recorder, list(live_at), 300, "all-stages latency alerts", daemons)
    return dense, mixed, live_at


def bench_all_stages(folder: Path, address: str, run: AllStagesRun) -> dict[str, Any]:
    """Feeds on loopback → poller → Kafka → NLP → alerts → webhook, the daemon's roles
    in processes as ``run.layout`` says."""
    recorder = FirstAlerts(key=article_url)
    receiver = WebhookReceiver(on_alert=recorder)
    feeds = BenchFeeds(folder / "site", run.feeds)
    warm = next(articles(1, seed=6, start=60_000_000))
    feeds.add(feeds.ids[0], warm)
    feeds.write_all()
    site = StaticSite(feeds.root)
    with serving(receiver), serving(site):
        config = all_stages_config(folder, address, receiver.url, feeds, site.base_url, run)
        daemons = start_roles(config, run.layout)
        try:
            wait_for_alerts(recorder, [warm.url], 180, "the all-stages warm-up alert", daemons)
            check_nlp_build(daemons)
            dense, mixed, live_at = drive_all_stages(feeds, recorder, daemons, run)
        finally:
            stop_all(daemons)
    latencies = [recorder.first_seen[url] - t for url, t in live_at.items()]
    return {"kafka_all_stages_articles_per_s": dense.articles_per_s,
            "kafka_all_stages_mix_articles_per_s": mixed.articles_per_s,
            "all_stages_cpu_ms_per_article": {"dense": dense.cpu_ms_per_article,
                                              "mix": mixed.cpu_ms_per_article},
            **latency_summary("all_stages_latency", latencies)}


def records_on(address: str, topic: str) -> int:
    """How many records ``topic`` holds (sum of its partitions' end offsets)."""
    return sum(records_on_partitions(address, topic).values())


def tagged_backlog(folder: Path, address: str, count: int) -> TopicNames:
    """Topics whose statements topic holds ``count`` tagged alert-dense articles (an
    NLP process tags them and is stopped), for runs of the alerts role alone."""
    topics = unique_topics()
    kafka = KafkaBus(KafkaSettings(bootstrap_servers=(address,)))
    kafka.ensure_topics(topics.all())
    producer = kafka.producer()
    for article in articles(count, seed=10, start=80_000_000):
        producer.send(topics.articles, article.id, encode(article))
    producer.flush()
    config = write_config(folder, bus=kafka_bus_config(address, topics),
                          extra={"ops": {"http_enabled": False}})
    nlp = daemon(config, "nlp")
    try:
        wait_for(lambda: records_on(address, topics.statements) >= count, 600,
                 "the statements backlog")
        check_nlp_build([nlp])
    finally:
        nlp.stop()
        producer.close()
        kafka.close()
    return topics


class MachineLoad:
    """Samples how busy the machine's CPUs are (from /proc/stat) while it runs, so a
    span's share can be read afterwards: whether a run was bound by the machine."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.samples: list[tuple[float, int, int]] = []
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MachineLoad:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
            idle = fields[3] + fields[4]  # idle and iowait
            self.samples.append((time.monotonic(), idle, sum(fields)))
            self._stop.wait(self._every_s)

    def busy(self, start: float, end: float) -> float:
        """The share (0-1) of all CPUs' time that was busy between two monotonic times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return float("nan")
        (_, idle0, all0), (_, idle1, all1) = inside[0], inside[-1]
        return 1 - (idle1 - idle0) / max(1, all1 - all0)


@dataclass(frozen=True)
class ScaleRun:
    """One run of the alerts role on the tagged backlog."""

    articles_per_s: float
    #: Share of the machine's two cores busy from the first notification to the last.
    machine_busy: float
    #: With two processes: of each partitioned stage, how many partitions the process
    #: holding the story decisions' partition had ("1/3"), else empty.
    story_holder_share: dict[str, str]


def story_holder_share(address: str, groups: dict[str, str], candidates_topic: str
                       ) -> dict[str, str]:
    """How many partitions of rule matching and of delivery the process holding the
    story decisions had, read from the groups' assignments (each process has a
    client id of its own)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=address)
    try:
        described = admin.describe_groups(list(groups.values()))
    finally:
        admin.close()

    def held(group: str) -> dict[str, list[int]]:
        members = described[groups[group]]["members"]
        return {m["client_id"]: [p for a in m["member_assignment"]["assigned_partitions"]
                                 for p in a["partitions"]] for m in members}

    used = records_on_partitions(address, candidates_topic)
    holders = [client for client, parts in held("stories").items()
               if any(used.get(p, 0) for p in parts)]
    if len(holders) != 1:
        return {}
    share = {}
    for stage, group in (("matching", "alerts"), ("delivery", "delivery")):
        assigned = held(group)
        total = sum(len(parts) for parts in assigned.values())
        share[stage] = f"{len(assigned.get(holders[0], []))}/{total}"
    return share


def records_on_partitions(address: str, topic: str) -> dict[int, int]:
    """End offset of each partition of ``topic``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=address)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp.partition: end for tp, end in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


#: The consumer groups of the alerts role's stages.
ALERTS_STAGES = ("alerts", "stories", "delivery")


def groups_settled(address: str, groups: Iterable[str], members: int) -> bool:
    """Whether each of ``groups`` is stable with ``members`` members, each assigned."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=address)
    try:
        described = admin.describe_groups(list(groups))
    finally:
        admin.close()
    return all(
        group["group_state"] == "Stable" and len(group["members"]) == members
        and all(isinstance(m["member_assignment"], dict) for m in group["members"])
        for group in described.values()
    )


def copy_topic(address: str, source: str, target: str) -> int:
    """Copy every record of ``source`` to the same partition of ``target``."""
    kafka = KafkaBus(KafkaSettings(bootstrap_servers=(address,)))
    producer = kafka.producer()
    try:
        records = kafka.read_all(source, 120)
        for record in records:
            producer.send(target, record.key, record.value, partition=record.partition)
        producer.flush()
    finally:
        producer.close()
        kafka.close()
    return len(records)


def bench_alerts_processes(
    folder: Path, address: str, backlog: TopicNames, count: int, processes: int
) -> ScaleRun:
    """The alerts role with ``processes`` processes (each its own state folder and
    Kafka client id) reading the tagged backlog: articles/s from the first
    notification at the webhook after the backlog is in place to the last.
    Start-up and joining the groups are left out: the backlog is copied to the
    run's statements topic once every process has joined every group of the role
    (otherwise a process joining after the first notification moves partitions
    mid-run, and the new owner of the story decisions restores their state and
    handles the records in flight again)."""
    tag = uuid.uuid4().hex[:8]
    # The role's own topics (an empty statements topic among them) and groups.
    topics = backlog.model_copy(update={
        name: f"{value}.{tag}" for name, value in backlog.model_dump().items()
        if name != "articles"})
    recorder = FirstAlerts()
    receiver = WebhookReceiver(on_alert=recorder)
    groups = {r: f"bench-{r}-{tag}" for r in STAGE_NAMES}
    bus = kafka_bus_config(address, topics) | {"groups": groups}
    kafka = KafkaBus(KafkaSettings(bootstrap_servers=(address,)))
    kafka.ensure_topics(topics.all())
    kafka.close()
    share: dict[str, str] = {}
    with serving(receiver), MachineLoad() as load:
        daemons = [
            daemon(write_config(folder / f"alerts-{n}", receivers=[receiver.url],
                                bus=bus | {"kafka": {"bootstrap_servers": address,
                                                     "client_id": f"bench-alerts-{n}"}},
                                extra={"alerts": NO_DEDUP, "ops": {"http_enabled": False}}),
                   "alerts")
            for n in range(processes)
        ]
        try:
            role_groups = [groups[stage] for stage in ALERTS_STAGES]
            wait_for(lambda: groups_settled(address, role_groups, processes), 300,
                     f"{processes} alerts processes in every group of the role")
            copy_topic(address, backlog.statements, topics.statements)
            copied = time.monotonic()
            wait_for(lambda: recorder.count("bench-8") >= count, 900,
                     f"alerts from {processes} alerts processes")
            if processes > 1:
                share = story_holder_share(address, groups, topics.alerts_candidates)
        finally:
            stop_all(daemons)
    with recorder.lock:
        # From the first notification after the copy: the copy's own work is left out.
        times = sorted(t for t in recorder.first_seen.values() if t >= copied)
    return ScaleRun((len(times) - 1) / (times[-1] - times[0]), load.busy(times[0], times[-1]),
                    share)


def bench_scale_out(folder: Path, address: str, count: int, repeats: int) -> dict[str, Any]:
    """The alerts role with one process and with two, on the same tagged backlog,
    ``repeats`` times in turn; the medians, and each pair of runs.

    Which process holds the one partition of the story decisions, and how many of
    the three partitions of rule matching and delivery it holds besides, is the
    consumer groups' choice and differs between runs, so a single pair says
    little about the ratio."""
    backlog = tagged_backlog(folder / "nlp", address, count)
    pairs: list[tuple[ScaleRun, ScaleRun]] = []
    for n in range(repeats):
        one = bench_alerts_processes(folder / f"one-{n}", address, backlog, count, 1)
        two = bench_alerts_processes(folder / f"two-{n}", address, backlog, count, 2)
        pairs.append((one, two))
    return {
        "alerts_1_process_articles_per_s": statistics.median(o.articles_per_s for o, _ in pairs),
        "alerts_2_processes_articles_per_s": statistics.median(t.articles_per_s for _, t in pairs),
        "alerts_2_vs_1": statistics.median(t.articles_per_s / o.articles_per_s for o, t in pairs),
        "alerts_scale_out_runs": [{
            "one_per_s": round(one.articles_per_s, 1), "two_per_s": round(two.articles_per_s, 1),
            "ratio": round(two.articles_per_s / one.articles_per_s, 3),
            "machine_busy_one": round(one.machine_busy, 2),
            "machine_busy_two": round(two.machine_busy, 2),
            "story_holder_share": two.story_holder_share,
        } for one, two in pairs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400,
                        help="alert-dense articles per burst")
    parser.add_argument("--mix-articles", type=int, default=3000,
                        help="articles of the 1-in-10 mix burst (all stages)")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="articles/s of the 1-in-10 mix for the topic-fed latency run")
    parser.add_argument("--latency-articles", type=int, default=2000)
    parser.add_argument("--all-stages-rate", type=float, default=10.0,
                        help="alert-dense articles/s for the all-stages latency run")
    parser.add_argument("--all-stages-latency-articles", type=int, default=200)
    parser.add_argument("--scale-out-articles", type=int, default=1000,
                        help="tagged alert-dense articles for the 1 vs 2 alerts processes run")
    parser.add_argument("--scale-out-repeats", type=int, default=5,
                        help="pairs of 1- and 2-process runs of the alerts role")
    parser.add_argument("--layout", choices=("split", "split-2", "single"), default="split",
                        help="split: a process per role; split-2: the same with two alerts"
                             " processes; single: one process for all")
    parser.add_argument("--feeds", type=int, default=4, help="RSS feeds for the all-stages run")
    parser.add_argument(
        "--poll-interval", type=float, default=1.0, help="seconds between polls of each feed"
    )
    args = parser.parse_args()
    run = AllStagesRun(
        args.articles, args.all_stages_latency_articles, args.all_stages_rate, args.feeds,
        args.poll_interval, args.layout, args.mix_articles,
    )
    address = bootstrap_address()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        transport = bench_transport(KafkaSettings(bootstrap_servers=(address,)), args.articles)
        embedded = bench_embedded(folder / "embedded", args.articles)
        kafka = bench_kafka(folder / "kafka", address, args.articles, args.rate,
                            args.latency_articles, args.layout)
        all_stages = bench_all_stages(folder / "all-stages", address, run)
        scale = bench_scale_out(folder / "scale-out", address, args.scale_out_articles,
                                args.scale_out_repeats)
    results = {
        "articles": args.articles,
        "mix_articles": args.mix_articles,
        "layout": args.layout,
        "nlp_build": build_labels()["nlp"],
        "baseline_transport_articles_per_s": transport,
        "embedded_articles_per_s": embedded,
        **kafka,
        "kafka_vs_transport": kafka["kafka_burst_articles_per_s"] / transport,
        "kafka_vs_embedded": kafka["kafka_burst_articles_per_s"] / embedded,
        "feeds": args.feeds,
        "poll_interval_s": args.poll_interval,
        **all_stages,
        "all_stages_vs_transport": all_stages["kafka_all_stages_articles_per_s"] / transport,
        "all_stages_mix_vs_transport":
            all_stages["kafka_all_stages_mix_articles_per_s"] / transport,
        **scale,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
