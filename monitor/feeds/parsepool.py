"""Feed parsing in a small pool of worker processes, each parse time-limited.

feedparser is pure Python: a 10 MB body of 100,000 tiny items costs it
20-30 s of CPU holding the GIL, and in the poller every other feed would wait
meanwhile. So a body above :data:`INLINE_MAX_BYTES` is parsed in a worker
process (spawned, never forked from the threaded poller) and given at most
``time_limit_s``: a parse that takes longer is abandoned, its worker killed
and replaced, and the feed reported broken like any other (:class:`ParseTimeout`,
metric reason ``parse_timeout``). A worker that dies (its memory limit, a
crash) is replaced too (:class:`ParserCrashed`, reason ``parser_crashed``).
Small bodies, nearly every real feed, are parsed in the calling thread: they
cost milliseconds, less than the trip to a worker.

A caller waits for a free worker first (that wait is not part of the time
limit); with ``workers`` processes one hostile feed occupies at most one of
them for ``time_limit_s``.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import resource
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import ClassVar

from monitor.feeds.errors import HostileFeed, NotAFeed
from monitor.feeds.model import ParsedFeed
from monitor.feeds.settings import PARSE_TIME_LIMIT_S, PARSE_WORKERS, PollerSettings

log = logging.getLogger(__name__)

#: Bodies up to this size are parsed in the calling thread (a few ms at most).
INLINE_MAX_BYTES = 64 * 1024
#: Seconds one parse may take in a worker before it is abandoned (config
#: ``poller.parse_time_limit_s``).
DEFAULT_TIME_LIMIT_S = PARSE_TIME_LIMIT_S
#: Worker processes (config ``poller.parse_workers``).
DEFAULT_WORKERS = PARSE_WORKERS
#: Seconds a new worker may take to start (import feedparser) before it counts as dead.
STARTUP_LIMIT_S = 60.0
#: Address-space limit of a worker; a parse that needs more fails as hostile.
DEFAULT_MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024


class ParseTimeout(HostileFeed):
    """Parsing the body took longer than the time limit."""

    reason: ClassVar[str] = "parse_timeout"


class ParserCrashed(HostileFeed):
    """The worker process parsing the body died."""

    reason: ClassVar[str] = "parser_crashed"


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How many workers, how long one parse may take, how much memory a worker may map."""

    workers: int = DEFAULT_WORKERS
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    memory_limit_bytes: int | None = DEFAULT_MEMORY_LIMIT_BYTES

    @classmethod
    def from_poller(cls, settings: PollerSettings) -> PoolSettings:
        """The pool the ``poller:`` section asks for (``parse_workers``, ``parse_time_limit_s``)."""
        return cls(workers=settings.parse_workers, time_limit_s=settings.parse_time_limit_s)


def _serve(conn: Connection, memory_limit_bytes: int | None) -> None:  # pragma: no cover
    """A worker's loop: parse what arrives, send back the feed or the error."""
    if memory_limit_bytes is not None:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        for present in (soft, hard):  # never above a limit the process already has
            if present != resource.RLIM_INFINITY:
                memory_limit_bytes = min(memory_limit_bytes, present)
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, hard))
    from monitor.feeds.parsing import parse_feed_inline

    conn.send(("ready", None))
    while True:
        try:
            body, headers = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, object] = ("ok", parse_feed_inline(body, headers))
        except NotAFeed as exc:
            answer = ("not_a_feed", str(exc))
        except HostileFeed as exc:
            answer = ("hostile", str(exc))
        except MemoryError:
            answer = ("hostile", "parser exhausted resources (MemoryError)")
        except Exception as exc:  # reported in the poller as a broken feed
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(answer)
        except MemoryError:
            conn.send(("hostile", "parser exhausted resources (MemoryError)"))


class _Worker:
    def __init__(self, settings: PoolSettings) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child, settings.memory_limit_bytes),
            name="feed-parser", daemon=True,
        )
        self.process.start()
        child.close()
        self.started = False

    def wait_started(self) -> None:
        """Wait for the worker's ready message; its start is no part of a time limit."""
        if self.started:
            return
        if not self.conn.poll(STARTUP_LIMIT_S):
            raise EOFError("no ready message")
        self.conn.recv()
        self.started = True

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class ParsePool:
    """``workers`` parser processes shared by every polling thread."""

    def __init__(self, settings: PoolSettings | None = None) -> None:
        self.settings = settings or PoolSettings()
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(max(1, self.settings.workers)):
            self._add(_Worker(self.settings))

    def parse(self, body: bytes, headers: Mapping[str, str] | None = None) -> ParsedFeed:
        """Parse ``body`` in a worker; raise the parse's own error, or ParseTimeout."""
        worker = self._idle.get()
        limit = self.settings.time_limit_s
        try:
            worker.wait_started()
            worker.conn.send((body, dict(headers or {})))
            ready = worker.conn.poll(limit)
            answer = worker.conn.recv() if ready else None
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._replace(worker)
            raise ParserCrashed(f"feed parser process died ({type(exc).__name__})") from exc
        if answer is None:
            self._replace(worker)
            raise ParseTimeout(f"parsing took longer than {limit:g}s; abandoned")
        self._idle.put(worker)
        return _unpack(answer)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()

    def _add(self, worker: _Worker) -> None:
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            if self._closed:
                return
        self._add(_Worker(self.settings))


def _unpack(answer: tuple[str, object]) -> ParsedFeed:
    status, value = answer
    if status == "ok" and isinstance(value, ParsedFeed):
        return value
    if status == "not_a_feed":
        raise NotAFeed(str(value))
    raise HostileFeed(str(value) if status == "hostile" else f"parser failed: {value}")


_shared: ParsePool | None = None
_shared_settings = PoolSettings()
_shared_lock = threading.Lock()


def shared_pool() -> ParsePool:
    """The process's pool, started on first use with the configured settings."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ParsePool(_shared_settings)
        return _shared


def close_shared_pool() -> None:
    """Stop the process's pool (the daemon at close; a later use starts a new one)."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.close()


def configure_shared_pool(settings: PoolSettings) -> None:
    """Use ``settings`` for the process's pool from its next start.

    A running pool with other settings is stopped (a parse in flight in it
    fails as ``parser_crashed``, as at close), so the next parse starts one as
    configured; a running pool with the same settings is kept. Starting is
    left to the first large body.
    """
    global _shared, _shared_settings
    with _shared_lock:
        _shared_settings = settings
        stale = _shared if _shared is not None and _shared.settings != settings else None
        if stale is not None:
            _shared = None
    if stale is not None:
        stale.close()
