"""An in-process :class:`~monitor.feeds.fetcher.Fetcher` for unit tests of poll logic.

Answers are scripted per URL: a :class:`FetchResult`, an exception to raise,
or a list of either consumed one per fetch (the last one repeats). Every
request is recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from monitor.errors import MonitorError
from monitor.feeds.errors import FetchUnreachable
from monitor.feeds.fetcher import FetchRequest, FetchResult

Answer = FetchResult | MonitorError


class FakeFetcher:
    """Scripted answers per URL; unknown URLs are unreachable."""

    def __init__(self, answers: dict[str, Answer | Sequence[Answer]] | None = None) -> None:
        self._answers: dict[str, list[Answer]] = {}
        self.requests: list[FetchRequest] = []
        self._lock = threading.Lock()
        for url, answer in (answers or {}).items():
            self.script(url, answer)

    def script(self, url: str, answer: Answer | Sequence[Answer]) -> None:
        """Set what fetching ``url`` returns from now on."""
        items = list(answer) if isinstance(answer, Sequence) else [answer]
        with self._lock:
            self._answers[url] = items

    def fetch(self, request: FetchRequest) -> FetchResult:
        with self._lock:
            self.requests.append(request)
            queue = self._answers.get(request.url)
            if not queue:
                raise FetchUnreachable(f"cannot reach {request.url}: no scripted answer")
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, MonitorError):
            raise answer
        if answer.status == 200 and request.etag and answer.etag == request.etag:
            return FetchResult(304, answer.url, etag=answer.etag)
        return answer

    def close(self) -> None:
        pass
