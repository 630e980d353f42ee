"""Notifiers: one call delivers one alert to one receiver, or raises why not.

The :class:`Notifier` protocol has an HTTP implementation for every receiver
kind (generic webhook, Slack-compatible, Alertmanager) and an in-process one
for unit tests. A notifier makes exactly one attempt; retries, backoff and
the circuit breaker belong to :mod:`monitor.alerts.delivery` (which calls
notifiers through :mod:`monitor.alerts.delivery.receivers`).

Errors are translated at this boundary:

* connection failures, timeouts (``timeout_s`` bounds the whole attempt, not
  each socket operation), 408, 425, 429 and 5xx → :class:`ReceiverUnavailable`
  (retryable; ``retry_after`` from the ``Retry-After`` header when given);
* any other non-2xx → :class:`ReceiverRejected` (permanent: dead-lettered at once).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar, Protocol

import httpx

from monitor.alerts.deliverable import Deliverable, message_id
from monitor.alerts.payloads import render
from monitor.alerts.settings import ReceiverSettings
from monitor.alerts.signing import IDEMPOTENCY_HEADER, legacy_headers, signed_headers
from monitor.clock import Clock
from monitor.errors import PermanentError, RetryableError
from monitor.http import BackendTransport, DeadlineBackend, parse_retry_after, user_agent

USER_AGENT = user_agent("alerts")
#: Longest Retry-After we honour; a receiver asking for more is retried after this.
MAX_RETRY_AFTER_S = 3600.0
_RETRYABLE_STATUS = frozenset({408, 425, 429})
#: httpx's own default pool limits; one notifier's sends share its pool.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class ReceiverUnavailable(RetryableError):
    """The receiver could not take the alert now; try again later."""

    reason: ClassVar[str] = "receiver_unavailable"

    def __init__(self, message: str, *, outcome: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        #: Fixed-string metric label: timeout, connect, throttled, http_5xx, ...
        self.outcome = outcome


class ReceiverRejected(PermanentError):
    """The receiver refused the alert for good (4xx other than 408/425/429)."""

    reason: ClassVar[str] = "receiver_rejected"


class Notifier(Protocol):
    """Delivers alerts to one receiver."""

    name: str

    def send(self, alert: Deliverable) -> None:
        """One attempt; raises ReceiverUnavailable or ReceiverRejected on failure."""

    def close(self) -> None: ...


class HttpNotifier:
    """POSTs a rendered alert to a receiver, signed when it has keys.

    Signed requests carry the Standard Webhooks headers, one signature per key
    (:mod:`monitor.alerts.signing`), and the former ``X-Monitor-*`` headers too
    when the receiver asks for them.

    One attempt ends within ``receiver.timeout_s`` from start to last byte:
    httpx's timeouts bound each socket operation only, so a receiver that
    dribbles its answer would otherwise hold the attempt (and the receiver's
    delivery slot) forever. The notifier owns its client for that reason: the
    limit is enforced by the connection pool's network backend.
    """

    def __init__(
        self, receiver: ReceiverSettings, keys: Sequence[bytes], clock: Clock
    ) -> None:
        self.name = receiver.name
        self._receiver = receiver
        self._keys = tuple(keys)
        self._clock = clock
        self._url = endpoint(receiver)
        self._backend = DeadlineBackend()
        self._client = httpx.Client(
            transport=BackendTransport(self._backend, _LIMITS),
            timeout=httpx.Timeout(receiver.timeout_s),
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never show the secret
        return f"HttpNotifier({self.name!r}, {self._receiver.kind}, {self._url})"

    def send(self, alert: Deliverable) -> None:
        now = self._clock.now()
        body = render(self._receiver, alert, now)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: alert.id,
            **self._receiver.headers,
        }
        if self._keys:
            # Standard Webhooks: webhook-id is unique per message (new per revision).
            headers.update(signed_headers(self._keys, message_id(alert), int(now), body))
            if self._receiver.legacy_signature_headers:
                headers.update(legacy_headers(self._keys[0], int(now), body))
        # The backend measures the deadline on the real monotonic clock, as it
        # bounds real socket waits; the injected clock is for the body and signing.
        deadline = time.monotonic() + self._receiver.timeout_s
        try:
            with self._backend.deadline(deadline):
                response = self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise ReceiverUnavailable(
                f"{self.name}: no complete answer within {self._receiver.timeout_s:g}s",
                outcome="timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise ReceiverUnavailable(
                f"{self.name}: {type(exc).__name__}: {exc}", outcome="connect"
            ) from exc
        check_response(self.name, response.status_code, response.headers.get("Retry-After"),
                       self._clock.now())

    def close(self) -> None:
        self._client.close()


def endpoint(receiver: ReceiverSettings) -> str:
    """The URL to POST to; Alertmanager receivers may be given as a base URL."""
    url = str(receiver.url)
    if receiver.kind == "alertmanager" and not url.rstrip("/").endswith("/api/v2/alerts"):
        url = url.rstrip("/") + "/api/v2/alerts"
    return url


def check_response(name: str, status: int, retry_after: str | None, now: float) -> None:
    """Raise the right error for a non-2xx status."""
    if 200 <= status < 300:
        return
    if status in _RETRYABLE_STATUS or status >= 500:
        outcome = "throttled" if status == 429 else "http_5xx" if status >= 500 else "http_4xx"
        raise ReceiverUnavailable(
            f"{name}: HTTP {status}", outcome=outcome,
            retry_after=receiver_pause(retry_after, now),
        )
    raise ReceiverRejected(f"{name}: HTTP {status} (not retried)")


def receiver_pause(retry_after: str | None, now: float) -> float | None:
    """Seconds a receiver's ``Retry-After`` asks for (:func:`monitor.http.parse_retry_after`),
    at most :data:`MAX_RETRY_AFTER_S`; None without a valid header."""
    seconds = parse_retry_after(retry_after, now)
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER_S)


class InProcessNotifier:
    """Keeps delivered alerts in a list; fails on demand. For unit tests.

    ``failures`` is a list of exceptions raised by successive calls before
    calls start to succeed.
    """

    def __init__(self, name: str, failures: list[Exception] | None = None) -> None:
        self.name = name
        self.failures = list(failures or [])
        self.delivered: list[Deliverable] = []
        self.attempts = 0

    def send(self, alert: Deliverable) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(alert)

    def close(self) -> None:
        return None
