"""Poller benchmark: one poller process against a local server holding many feeds.

    .venv/bin/python bench/bench_poller.py --feeds 100000 --cycle 900 --duration 120

A separate process serves ``--feeds`` RSS feeds on loopback (asyncio, HTTP/1.1
keep-alive). A conditional request gets 304, except that one in five (at
random) gets a changed feed with a new item. The poller starts with every
feed's ETag known, as in steady state.

Phase 1 (capacity): ``--capacity-feeds`` feeds all due at once; polls/s is
how fast one poller works through them.
Phase 2 (schedule): all ``--feeds`` feeds spread evenly over ``--cycle``
seconds, the poller's ``run`` loop runs for ``--duration`` seconds; we record
how late each poll started after it was due (schedule lag, p50/p99) and the
polls/s achieved. A 15-minute cycle over 100,000 feeds needs 111 polls/s.
Then feedparser's cost for the changed feed body is timed in the same process.
Phase 3 (hostile, with ``--hostile``; it runs first): ``--hostile-feeds`` feeds spread over
``--hostile-cycle`` seconds, one of them (due early) answering every request
with a 10 MB feed of 100,000 tiny items; we record the schedule lag of the
others, as in phase 2, and the hostile feed's outcome (parse time-outs). Only
phase 3 runs with ``--hostile-only``. ``--inline-parse`` parses every body in
the polling thread, as before the parse pool, for comparison.
Articles go to the embedded bus (no Kafka in this measurement).

    .venv/bin/python bench/bench_poller.py --hostile-only --hostile-feeds 10000 \
        --hostile-cycle 60 --duration 90
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.config import Settings
from monitor.feeds.fetcher import FetchRequest, FetchResult, HttpxFetcher
from monitor.feeds.parsing import parse_feed
from monitor.feeds.role import PollerRole
from monitor.feeds.settings import FeedConfig, PollerSettings
from monitor.feeds.state import FeedState
from monitor.feeds.store import PollerStore
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext

ITEMS_PER_FEED = 10
#: The hostile phase's feed number that serves the 10 MB body.
HOSTILE_N = 100
HOSTILE_ITEMS = 100_000


def hostile_body(items: int = HOSTILE_ITEMS) -> bytes:
    """About 10 MB (under the 10 MiB body cap) of ``items`` tiny RSS items."""
    item = (b"<item><title>%06d</title><guid>https://h.example/%06d</guid>"
            b"<description>d</description></item>")
    return (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            b"<title>Hostile</title>" + b"".join(item % (i, i) for i in range(items))
            + b"</channel></rss>")


def feed_body(n: int, version: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {n} story {v}</title><link>https://bench.example/{n}/{v}</link>"
        f"<guid>https://bench.example/{n}/{v}</guid>"
        f"<pubDate>Tue, 10 Jun 2025 {v % 24:02d}:00:00 GMT</pubDate>"
        f"<description>Summary of story {v} in feed {n}.</description>"
        f"<content:encoded><![CDATA[<p>Story {v} of feed {n}, first paragraph.</p>"
        f"<p>Second paragraph with a few more words in it.</p>]]></content:encoded></item>"
        for v in range(version, max(version - ITEMS_PER_FEED, -1), -1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Bench feed {n}</title><link>https://bench.example/{n}/</link>{items}"
        "</channel></rss>"
    ).encode()


# -- the feed server (its own process) ------------------------------------------------
class _FeedProtocol(asyncio.Protocol):
    versions: dict[str, int] = {}  # noqa: RUF012 - one table per server process
    hostile = hostile_body()
    rng = random.Random(42)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(self.answer(head))

    def answer(self, head: bytes) -> bytes:
        lines = head.split(b"\r\n")
        path = lines[0].split(b" ")[1].decode()
        n = int(path.rsplit("/", 1)[1])  # paths are /<phase>/f/<n>
        if path.startswith("/hostile/") and n == HOSTILE_N:
            body = self.hostile
            return (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body)) + body
        sent_etag = next((ln.split(b":", 1)[1].strip() for ln in lines[1:]
                          if ln.lower().startswith(b"if-none-match:")), None)
        version = self.versions.get(path, ITEMS_PER_FEED)
        current = f'"{n}-{version}"'.encode()
        if sent_etag == current and self.rng.random() >= 0.2:
            return (b'HTTP/1.1 304 Not Modified\r\nETag: "%d-%d"\r\n'
                        b"Content-Length: 0\r\n\r\n" % (n, version))
        if sent_etag is not None:
            version += 1
            self.versions[path] = version
        body = feed_body(n, version)
        return (b'HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: "%d-%d"\r\n'
                b"Content-Length: %d\r\n\r\n" % (n, version, len(body))) + body


def serve(port_out: multiprocessing.connection.Connection) -> None:  # pragma: no cover
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_FeedProtocol, "127.0.0.1", 0, backlog=1024)
        port_out.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


# -- the poller side ---------------------------------------------------------------------
class LagRecorder:
    """A fetcher wrapper that records when each feed fetch starts."""

    def __init__(self, inner: HttpxFetcher, due: dict[str, float]) -> None:
        self.inner = inner
        self.due = due
        self.lags: list[float] = []
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()

    def fetch(self, request: FetchRequest) -> FetchResult:
        started = time.time()
        result = self.inner.fetch(request)
        with self._lock:
            due = self.due.pop(request.url, None)
            if due is not None:
                self.lags.append(max(0.0, started - due))
            self.statuses[result.status] = self.statuses.get(result.status, 0) + 1
        return result

    def close(self) -> None:
        self.inner.close()


def seeded(
    port: int, phase: str, count: int, start: float, spread: float, state_dir: Path
) -> Settings:
    poller = PollerSettings(
        allow_private_addresses=True, concurrency=ARGS.concurrency,
        per_host_concurrency=ARGS.concurrency, per_host_delay_s=0.0,
        default_interval_s=3600, min_interval_s=3600, max_interval_s=7200, fetch_pages=False,
    )
    urls = [f"http://127.0.0.1:{port}/{phase}/f/{n}" for n in range(count)]
    feeds = tuple(FeedConfig.model_construct(id=f"f{n}", url=url, title="", interval_s=None)
                  for n, url in enumerate(urls))
    store = PollerStore.in_state_dir(state_dir)
    store.save_states([
        (FeedState(feed_id=f"f{n}", config_url=url, url=url, etag=f'"{n}-{ITEMS_PER_FEED}"',
                   next_poll_at=start + spread * n / count, last_success_at=start - 900), "ok")
        for n, url in enumerate(urls)
    ])
    store.close()
    return Settings(poller=poller, feeds=feeds, state_dir=state_dir, config_dir=state_dir)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run_phase(
    port: int, phase: str, count: int, spread: float, duration: float | None
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        # Feeds fall due from ``start`` on; leave time to seed and load them.
        start = time.time() + ARGS.lead
        settings = seeded(port, phase, count, start, spread, Path(tmp))
        due = {f.url if isinstance(f.url, str) else str(f.url): start + spread * n / count
               for n, f in enumerate(settings.feeds)}
        recorder = LagRecorder(HttpxFetcher(settings.poller), due)
        bus = MemoryBus()
        metrics = Metrics()
        role = PollerRole(RoleContext(settings, bus, metrics, SystemClock()), fetcher=recorder)
        stop = threading.Event()
        worker = threading.Thread(target=role.run, args=(stop,))
        ready = time.time()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        if ready > start:
            print(f"warning: set-up took {ready - start:.1f}s past the lead time", flush=True)
        while time.time() < start:
            time.sleep(0.01)
        worker.start()
        began = time.time()
        if duration is None:
            while len(recorder.lags) < count:
                time.sleep(0.05)
        else:
            time.sleep(duration)
        elapsed = time.time() - began
        polls = len(recorder.lags)
        stop.set()
        worker.join()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        articles = len(bus.records_in(settings.bus.topics.articles_found))
        role.close()
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return {
        "polls": polls, "seconds": elapsed, "polls_per_s": polls / elapsed,
        "lag_p50_s": percentile(recorder.lags, 0.50), "lag_p99_s": percentile(recorder.lags, 0.99),
        "lag_max_s": max(recorder.lags, default=0.0),
        "changed_200": recorder.statuses.get(200, 0),
        "not_modified_304": recorder.statuses.get(304, 0),
        "articles": articles, "cpu_ms_per_poll": 1000 * cpu / max(polls, 1),
        "parse_timeouts": metrics.errors.labels(
            "poller", "permanent", "parse_timeout")._value.get(),
    }


def parse_cost(rounds: int = 300) -> dict[str, float]:
    body = feed_body(7, 20)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        parse_feed(body)
        times.append(time.perf_counter() - began)
    return {"bytes": len(body), "entries": ITEMS_PER_FEED,
            "ms_p50": 1000 * statistics.median(times), "ms_p99": 1000 * percentile(times, 0.99)}


def main() -> None:
    if ARGS.inline_parse:
        import monitor.feeds.parsing

        monitor.feeds.parsing.INLINE_MAX_BYTES = sys.maxsize  # type: ignore[attr-defined]
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    server.start()
    port = receive.recv()
    try:
        if ARGS.hostile or ARGS.hostile_only:
            hostile = run_phase(port, "hostile", ARGS.hostile_feeds, ARGS.hostile_cycle,
                                ARGS.duration)
            print(f"hostile: {hostile}", flush=True)
        if ARGS.hostile_only:
            return
        capacity = run_phase(port, "capacity", ARGS.capacity_feeds, 0.0, None)
        print(f"capacity: {capacity}", flush=True)
        scheduled = run_phase(port, "schedule", ARGS.feeds, ARGS.cycle, ARGS.duration)
        print(f"schedule: {scheduled}", flush=True)
        cost = parse_cost()
        print(f"feedparser: {cost}", flush=True)
        share = cost["ms_p50"] * 0.2 / max(scheduled["cpu_ms_per_poll"], 1e-9)
        print(f"feedparser share of poller CPU (1 in 5 polls parse): {share:.0%}")
    finally:
        server.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=100_000)
    parser.add_argument("--cycle", type=float, default=900.0)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--capacity-feeds", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--lead", type=float, default=30.0, help="seconds to set up a phase")
    parser.add_argument("--hostile", action="store_true", help="add phase 3 (a 10 MB feed)")
    parser.add_argument("--hostile-only", action="store_true", help="run phase 3 only")
    parser.add_argument("--hostile-feeds", type=int, default=10_000)
    parser.add_argument("--hostile-cycle", type=float, default=60.0)
    parser.add_argument("--inline-parse", action="store_true",
                        help="parse every body in the polling thread (no parse pool), to compare")
    ARGS = parser.parse_args()
    main()
