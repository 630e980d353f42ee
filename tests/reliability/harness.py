"""Building blocks of the reliability suite: a counting webhook receiver, a
pipeline of daemon processes on Kafka, a steady article offerer, a growing
feed site, memory sampling and the figures file.

Everything here drives real components (loopback HTTP servers, a real broker,
``monitor run`` as separate processes); nothing is faked.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from bench.corpus import articles as corpus_articles
from bench.corpus import news_mix
from monitor.alerts.deliverable import decode_deliverable
from monitor.alerts.signing import verify
from monitor.bus.base import Record
from monitor.bus.codec import decode, encode
from monitor.bus.kafka import KafkaBus
from monitor.bus.settings import KafkaSettings
from monitor.demo import ReceivedAlert, WebhookReceiver, serving
from monitor.messages import Article, TaggedArticle
from monitor.roles import STAGE_NAMES
from tests.kafka_broker import KafkaTopics
from tests.support import REPO_ROOT, MonitorProcess, wait_for, write_config

#: Secret values configured in every daemon this suite starts; none may reach a log.
WEBHOOK_SECRET = "rel-webhook-key-" + uuid.uuid4().hex
HEADER_SECRET = "rel-bearer-" + uuid.uuid4().hex
OPS_TOKEN = "rel-ops-token-" + uuid.uuid4().hex
KNOWN_SECRETS = (WEBHOOK_SECRET, HEADER_SECRET, OPS_TOKEN)

#: Alert-sink settings that keep every statement its own story and never rate-limit,
#: and retry timings scaled down so a recovered receiver is tried again within seconds.
SINK_SETTINGS: dict[str, Any] = {
    "dedup": {"similarity": 100, "rate_limit_count": 1_000_000, "rate_limit_per_s": 1},
    "retry": {"max_attempts": 10_000, "max_elapsed_s": 3600,
              "backoff": {"base_s": 0.5, "cap_s": 3.0}},
    "breaker": {"failure_threshold": 5, "open_s": 1.0, "max_open_s": 3.0},
}
RESULTS_PATH = Path(os.environ.get(
    "MONITOR_RELIABILITY_RESULTS", str(REPO_ROOT / "var" / "reliability" / "results.json")
))


def env_number(name: str, default: float) -> float:
    """A numeric knob from the environment (scenario durations and rates)."""
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


# -- figures ------------------------------------------------------------------------


class Results:
    """Figures per scenario, merged into one JSON file that docs/reliability.md quotes."""

    def __init__(self, path: Path = RESULTS_PATH) -> None:
        self.path = path
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, str] = {}

    def record(self, scenario: str, **figures: Any) -> None:
        rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
        rounded.setdefault("status", "passed" if "lost" not in rounded or not rounded["lost"]
                           else "FAILED")
        self.scenarios[scenario] = {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                 time.gmtime()), **rounded}
        self.write()  # at once: an interrupted session keeps what it measured

    def outcome(self, test: str, outcome: str) -> None:
        """Remember how a test ended (passed, failed, xfailed…), next to the figures."""
        self.outcomes[test] = outcome
        self.write()

    def write(self) -> None:
        if not self.scenarios and not self.outcomes:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            existing = json.loads(self.path.read_text())
        except (OSError, ValueError):
            existing = {}
        merged = {**existing.get("scenarios", {}), **self.scenarios}
        outcomes = {**existing.get("outcomes", {}), **self.outcomes}
        self.scenarios, self.outcomes = {}, {}
        document = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "system": platform.platform()},
            "scenarios": dict(sorted(merged.items())),
            "outcomes": dict(sorted(outcomes.items())),
        }
        self.path.write_text(json.dumps(document, indent=2) + "\n")


# -- webhook receiver ---------------------------------------------------------------


@dataclass
class Tally:
    """What a receiver saw, counted by Idempotency-Key (the alert id)."""

    posts: int
    keys: set[str]
    #: Posts that repeated an identical revision (same key, same sources) already received.
    duplicates: int
    #: Posts that carried a new revision of an alert already received (a new source).
    revisions: int
    bad_signatures: int


class CountingReceiver:
    """A loopback webhook receiver that checks signatures and times first arrivals.

    It can be taken down and brought back on the same port (``down()`` / ``up()``).
    """

    def __init__(self, secret: str = WEBHOOK_SECRET) -> None:
        self._secret = secret.encode()
        self._lock = threading.Lock()
        self.received: list[ReceivedAlert] = []
        self.first_by_article: dict[str, float] = {}
        self.bad_signatures = 0
        self._server: WebhookReceiver | None = WebhookReceiver(on_alert=self._on_alert)
        self.port = self._server.server_address[1]
        self.url = self._server.url
        self._thread: threading.Thread | None = None

    def _on_alert(self, received: ReceivedAlert) -> None:
        now = time.monotonic()
        ok = verify([self._secret], received.headers, received.body, time.time())
        alert = received.payload.get("alert", received.payload)
        with self._lock:
            self.received.append(received)
            self.bad_signatures += 0 if ok else 1
            self.first_by_article.setdefault(str(alert["article"]["id"]), now)

    def start(self) -> CountingReceiver:
        assert self._server is not None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop listening: deliveries now get 'connection refused'."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def up(self) -> None:
        """Listen again on the same port."""
        self._server = WebhookReceiver(on_alert=self._on_alert, port=self.port)
        self.start()

    def close(self) -> None:
        self.down()

    def keys(self) -> set[str]:
        with self._lock:
            return {r.headers["Idempotency-Key"] for r in self.received}

    def articles_alerted(self) -> set[str]:
        with self._lock:
            return set(self.first_by_article)

    def tally(self) -> Tally:
        with self._lock:
            received = list(self.received)
            bad = self.bad_signatures
        seen: set[tuple[str, tuple[str, ...]]] = set()
        keys: set[str] = set()
        duplicates = revisions = 0
        for item in received:
            key = item.headers["Idempotency-Key"]
            alert = item.payload.get("alert", item.payload)
            sources = tuple(sorted(str(s.get("entry_url")) for s in alert.get("sources", [])))
            if (key, sources) in seen:
                duplicates += 1
            elif key in keys:
                revisions += 1
            seen.add((key, sources))
            keys.add(key)
        return Tally(len(received), keys, duplicates, revisions, bad)


@contextmanager
def counting_receiver() -> Iterator[CountingReceiver]:
    receiver = CountingReceiver().start()
    try:
        yield receiver
    finally:
        receiver.close()


# -- processes ----------------------------------------------------------------------


class Launcher:
    """Starts ``monitor`` processes, stops them at the end and keeps their logs."""

    def __init__(self) -> None:
        self.processes: list[MonitorProcess] = []

    def start(self, config: Path, *args: str, env: dict[str, str] | None = None
              ) -> MonitorProcess:
        process = MonitorProcess(config, *args, env=env)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                try:
                    process.stop(signal.SIGTERM, timeout=30)
                except subprocess.TimeoutExpired:
                    process.popen.kill()
                    process.popen.wait(10)

    def leaked_secrets(self) -> list[str]:
        """``pid: secret-name`` for every process whose output holds a known secret."""
        names = {WEBHOOK_SECRET: "webhook secret", HEADER_SECRET: "header secret",
                 OPS_TOKEN: "ops token"}
        return [f"pid {p.popen.pid}: {names[s]}" for p in self.processes
                for s in KNOWN_SECRETS if s in p.output()]


def kill(process: MonitorProcess) -> None:
    """SIGKILL: no handler runs, nothing is flushed or committed."""
    process.popen.send_signal(signal.SIGKILL)
    process.popen.wait(30)


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (0 once it has exited)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def load_average() -> float:
    """The machine's one-minute load average (0.0 where /proc has none)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


@dataclass(frozen=True)
class Sample:
    """One sampling instant: monotonic time, RSS in KiB per process, machine load."""

    at: float
    rss_kib: dict[str, int]
    load1: float


class MemorySampler:
    """Samples the RSS of some processes every ``every_s`` seconds on a thread.

    ``samples`` holds the RSS values per process (for the flatness check);
    ``timeline`` holds every instant with its time and the machine's load, so a
    long soak can report memory and load over time.
    """

    def __init__(self, pids: dict[str, int], every_s: float = 2.0) -> None:
        self.pids = pids
        self.every_s = every_s
        self.samples: dict[str, list[int]] = {name: [] for name in pids}
        self.timeline: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            taken = {name: value for name, pid in self.pids.items() if (value := rss_kib(pid))}
            for name, value in taken.items():
                self.samples[name].append(value)
            self.timeline.append(Sample(time.monotonic(), taken, load_average()))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def peak_mib(self) -> float:
        return max((max(s) for s in self.samples.values() if s), default=0) / 1024

    def thirds_mib(self, name: str) -> tuple[float, float]:
        """Mean RSS of the first and of the last third of the samples of ``name``."""
        values = self.samples[name]
        third = max(1, len(values) // 3)
        return (sum(values[:third]) / third / 1024, sum(values[-third:]) / third / 1024)


def series_by_window(
    timeline: list[Sample], latencies: list[tuple[float, float]], started: float, window_s: float
) -> list[dict[str, Any]]:
    """Memory, load and latency per ``window_s`` window from ``started``.

    ``latencies`` pairs the time each article was offered with its latency; each
    window reports the mean RSS (MiB) of each process and the mean load of
    the samples taken in it, and the latency p50/p99/max of the articles
    offered in it. Windows with neither samples nor articles are left out.
    """
    windows: dict[int, tuple[list[Sample], list[float]]] = {}
    for sample in timeline:
        windows.setdefault(int((sample.at - started) // window_s), ([], []))[0].append(sample)
    for sent, latency in latencies:
        windows.setdefault(int((sent - started) // window_s), ([], []))[1].append(latency)
    return [_window_row(index * window_s, *windows[index]) for index in sorted(windows)]


def _window_row(start_s: float, samples: list[Sample], latencies: list[float]) -> dict[str, Any]:
    names = sorted({name for s in samples for name in s.rss_kib})
    row: dict[str, Any] = {"from_s": round(start_s)}
    for name in names:
        values = [s.rss_kib[name] for s in samples if name in s.rss_kib]
        row[f"rss_{name}_mib"] = round(sum(values) / len(values) / 1024, 1)
    if samples:
        row["load1"] = round(sum(s.load1 for s in samples) / len(samples), 2)
    if latencies:
        row |= {
            "articles": len(latencies),
            "p50_s": round(percentile(latencies, 50), 3),
            "p99_s": round(percentile(latencies, 99), 3),
            "max_s": round(max(latencies), 3),
        }
    return row


# -- Kafka pipeline -----------------------------------------------------------------


def kafka_bus_config(bootstrap: str, topics: KafkaTopics) -> dict[str, Any]:
    return {
        "kind": "kafka",
        "kafka": {"bootstrap_servers": bootstrap, "reconnect_backoff_max_ms": 1000},
        "topics": topics.names.model_dump(),
        "groups": {role: topics.group(role) for role in STAGE_NAMES},
    }


def pipeline_config(
    folder: Path,
    bootstrap: str,
    topics: KafkaTopics,
    receiver_url: str,
    *,
    feeds: Iterable[tuple[str, str]] = (),
    state_dir: Path | None = None,
    poller: dict[str, Any] | None = None,
) -> Path:
    """monitor.yaml for a Kafka pipeline with one signed receiver and the suite's secrets."""
    receivers = [{"name": "hook", "url": receiver_url, "secret": WEBHOOK_SECRET,
                  "timeout_s": 5, "headers": {"Authorization": f"Bearer {HEADER_SECRET}"}}]
    extra: dict[str, Any] = {
        "alerts": {**SINK_SETTINGS, "receivers": receivers},
        "ops": {"http_enabled": False, "log_format": "json", "shutdown_grace_s": 10},
        "poller": {"allow_private_addresses": True, "min_interval_s": 1,
                   "per_host_delay_s": 0, "fetch_pages": False, **(poller or {})},
    }
    path = write_config(folder, feeds=list(feeds), bus=kafka_bus_config(bootstrap, topics),
                        extra=extra)
    if state_dir is not None:
        text = path.read_text().replace(str(folder / "state"), str(state_dir))
        path.write_text(text)
    return path


def revisions_at_once(config: Path) -> Path:
    """Deliver a story's revisions as they come (no ``group_interval_s`` pacing), so a
    copy's outlet reaches the receiver within the scenario."""
    settings = yaml.safe_load(config.read_text())
    settings["alerts"]["group_interval_s"] = 0
    config.write_text(yaml.safe_dump(settings))
    return config


def read_records(bootstrap: str, topic: str, idle_s: float = 3.0) -> list[Record]:
    """Every record on ``topic``, until none came for ``idle_s`` (a private consumer
    group reads from the start)."""
    bus = KafkaBus(KafkaSettings(bootstrap_servers=(bootstrap,)))
    consumer = bus.consumer([topic], f"reliability-reader-{uuid.uuid4().hex[:8]}")
    records: list[Record] = []
    try:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_s:
            batch = consumer.poll(0.5)
            if batch:
                quiet_since = time.monotonic()
                records.extend(batch)
    finally:
        consumer.close()
        bus.close()
    return records


def read_topic(bootstrap: str, topic: str, idle_s: float = 3.0) -> list[bytes]:
    """Every record value on ``topic`` (see :func:`read_records`)."""
    return [record.value for record in read_records(bootstrap, topic, idle_s)]


@dataclass(frozen=True)
class Restore:
    """A state partition a process rebuilt from its changelog, as its log says."""

    time: str
    partition: int
    seconds: float


def restores(process: MonitorProcess, stage: str, lines: slice = slice(None)) -> list[Restore]:
    """Each restore of a ``stage`` partition in ``process``'s log lines ``lines``, in
    order (the JSON fields of the line ``monitor.bus.changelog`` logs for it)."""
    found = []
    for line in process.output().splitlines()[lines]:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("stage") == stage and "restore_s" in event:
            found.append(Restore(str(event.get("time", "")), int(event["partition"]),
                                 float(event["restore_s"])))
    return found


def alert_ids_on(bootstrap: str, topic: str) -> set[str]:
    """The ids of what the alerts topic holds: story notifications (the default)
    or per-statement alerts."""
    return {decode_deliverable(v).id for v in read_topic(bootstrap, topic)}


def tagged_article_ids_on(bootstrap: str, topic: str) -> set[str]:
    return {decode(v, TaggedArticle).article.id for v in read_topic(bootstrap, topic)}


def group_lag(bootstrap: str, group: str, topic: str) -> int:
    """Records of ``topic`` not yet committed by consumer group ``group``."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="reliability-lag")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="reliability-lag")
    try:
        # kafka-python renamed list_consumer_group_offsets to list_group_offsets.
        listing = getattr(admin, "list_consumer_group_offsets", None) or admin.list_group_offsets
        committed = listing(group)
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = consumer.end_offsets(partitions)
        return sum(
            end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
            for tp, end in ends.items()
        )
    finally:
        consumer.close()
        admin.close()


class Offerer:
    """Publishes articles onto the articles topic at a steady rate, on a thread.

    A send that fails (broker down) is retried until it succeeds, as an upstream
    producer would; the idempotent producer keeps retries from duplicating.
    """

    def __init__(self, bootstrap: str, topic: str, items: list[Article], rate: float) -> None:
        self._bus = KafkaBus(KafkaSettings(bootstrap_servers=(bootstrap,),
                                           reconnect_backoff_max_ms=1000))
        self._producer = self._bus.producer()
        self._topic = topic
        self.items = items
        self.rate = rate
        self.sent_at: dict[str, float] = {}
        self.send_failures = 0
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Offerer:
        self._thread.start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        for index, article in enumerate(self.items):
            pause = started + index / self.rate - time.monotonic()
            if pause > 0 and self._stop.wait(pause):
                break
            while not self._stop.is_set():
                try:
                    self._producer.send(self._topic, article.id, encode(article))
                    self._producer.flush(10)
                    break
                except Exception:  # broker away: keep the article and try again
                    self.send_failures += 1
                    self._stop.wait(0.5)
            if self._stop.is_set():
                break
            self.sent_at[article.id] = time.monotonic()
        self.done.set()

    def offered_rate(self) -> float:
        times = sorted(self.sent_at.values())
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    def close(self, grace_s: float = 600.0) -> None:
        """Wait for the whole stream to be offered, then release the producer.

        The wait is the stream's own length at the offered rate plus
        ``grace_s`` for broker outages, so a soak of hours is offered in
        full. The sending thread is stopped and joined before the producer is
        closed, never closed under it.
        """
        self.done.wait(len(self.items) / self.rate + grace_s)
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
        self._producer.close()
        self._bus.close()


def corpus(count: int, start: int) -> list[Article]:
    """``count`` unique alert-worthy articles from the benchmark corpus."""
    return list(corpus_articles(count, seed=11, start=start))


def news_stream(count: int, start: int, relevant_every: int) -> list[Article]:
    """``count`` unique articles, one in ``relevant_every`` alert-worthy."""
    return list(news_mix(count, relevant_every, seed=11, start=start))


def is_alert_worthy(article: Article) -> bool:
    """Whether a corpus article is one that must raise alerts (see bench/corpus.py)."""
    return article.id.startswith("bench-")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def wait_all_alerted(receiver: CountingReceiver, article_ids: set[str], timeout: float,
                     what: str) -> None:
    wait_for(lambda: article_ids <= receiver.articles_alerted(), timeout,
             f"{what}: {len(article_ids - receiver.articles_alerted())} articles still without "
             "an alert")


# -- feeds --------------------------------------------------------------------------


def rss_document(items: list[Article]) -> bytes:
    """An RSS 2.0 feed carrying each article's full text as content:encoded."""
    parts = [
        f"<item><guid>{escape(a.url)}</guid><link>{escape(a.url)}</link>"
        f"<title>{escape(a.title)}</title>"
        f"<content:encoded><![CDATA[{''.join(f'<p>{escape(p)}</p>' for p in a.text.splitlines())}"
        "]]></content:encoded></item>"
        for a in items
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>reliability</title><link>https://bench.example/</link>"
        + "".join(parts) + "</channel></rss>"
    ).encode()


@dataclass
class GrowingSite:
    """Feeds whose items appear over time: item ``i`` is visible ``i / rate`` s after start.

    Feed ``k`` of ``feeds`` carries items ``k, k + feeds, k + 2 * feeds, …``.
    """

    items: list[Article]
    feeds: int
    rate: float
    started: float = field(default_factory=time.monotonic)

    def visible(self, feed: int) -> list[Article]:
        released = int((time.monotonic() - self.started) * self.rate) + 1
        return [a for i, a in enumerate(self.items[:released]) if i % self.feeds == feed]

    def released_at(self, index: int) -> float:
        return self.started + index / self.rate


class _GrowingHandler(BaseHTTPRequestHandler):
    server: GrowingServer

    def do_GET(self) -> None:
        try:
            feed = int(self.path.strip("/").removeprefix("feed").removesuffix(".xml"))
        except ValueError:
            self.send_error(404)
            return
        body = rss_document(self.server.site.visible(feed))
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class GrowingServer(ThreadingHTTPServer):
    def __init__(self, site: GrowingSite) -> None:
        super().__init__(("127.0.0.1", 0), _GrowingHandler)
        self.site = site
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"

    def feed_urls(self) -> list[tuple[str, str]]:
        return [(f"grow{k}", f"{self.base_url}/feed{k}.xml") for k in range(self.site.feeds)]


__all__ = ["serving"]


def pipeline_state(bootstrap: str, topics: KafkaTopics, receiver: CountingReceiver,
                   launcher: Launcher) -> str:
    """Where a stream stopped: record counts per topic, receiver counts, process log tails."""
    lines = [f"receiver: {len(receiver.received)} posts, "
             f"{len(receiver.articles_alerted())} articles alerted"]
    for name in ("articles", "statements", "alerts", "deadletter"):
        topic = getattr(topics.names, name)
        try:
            lines.append(f"{name}: {len(read_topic(bootstrap, topic, idle_s=2))} records")
        except Exception as exc:  # a diagnosis must not hide the original failure
            lines.append(f"{name}: unreadable ({exc})")
    for process in launcher.processes:
        tail = "\n".join(line[:400] for line in process.output().splitlines()[-15:])
        args = process.popen.args
        shown = args[4:] if isinstance(args, list) else args
        lines.append(f"--- pid {process.popen.pid} {shown!r}:\n{tail}")
    return "\n".join(lines)
