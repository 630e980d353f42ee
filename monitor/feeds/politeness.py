"""Per-host politeness: at most N requests in flight to a host, spaced apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


class HostGate:
    """Limits concurrency per host and spaces request starts by ``delay_s``.

    Held by :class:`~monitor.feeds.fetcher.HttpxFetcher` around every
    request, each redirect hop under its own host's slot, and shared by feed
    and page fetches, so neither fetching article pages nor redirects to
    another host ever hammer a site. Hosts are told apart by name, not port.
    """

    def __init__(
        self,
        per_host: int,
        delay_s: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._per_host = per_host
        self._delay_s = delay_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        """Hold one of the host's slots for the duration of a request."""
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.BoundedSemaphore(self._per_host))
        with semaphore:
            self._wait_turn(host)
            yield

    def _wait_turn(self, host: str) -> None:
        if self._delay_s <= 0:
            return
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self._delay_s
        if start > now:
            self._sleep(start - now)
