"""The monitor's exception tree.

Every error the monitor raises on purpose derives from :class:`MonitorError`.
Third-party exceptions are translated at the boundary where they occur
(``raise SomeMonitorError(...) from exc``) so that callers only ever handle
this tree.

Each error belongs to exactly one *kind*, which decides what happens next and
is recorded as a fixed-string metric label:

``retryable``
    The same operation may succeed later (broker down, HTTP 503, timeout).
    The work item is kept and tried again with backoff.
``permanent``
    Trying again will not help (404, refused URL, invalid config). The item is
    reported and skipped; for a feed, polling goes on on its normal schedule.
``poison``
    A message that can never be processed (undecodable, invalid schema).
    It is sent to the dead-letter topic with the reason and the consumer
    carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

ErrorKind = Literal["retryable", "permanent", "poison"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("retryable", "permanent", "poison")


class MonitorError(Exception):
    """Root of the monitor's exceptions; ``kind`` sorts the failure."""

    kind: ClassVar[ErrorKind] = "permanent"
    #: A short fixed string naming the failure, safe to use as a metric label.
    reason: ClassVar[str] = "error"


class RetryableError(MonitorError):
    """The operation may succeed if tried again later."""

    kind: ClassVar[ErrorKind] = "retryable"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds the peer asked us to wait (e.g. HTTP ``Retry-After``), if any.
        self.retry_after = retry_after


class PermanentError(MonitorError):
    """Trying again will not help."""

    kind: ClassVar[ErrorKind] = "permanent"


class PoisonError(MonitorError):
    """A message that can never be processed; it belongs in the dead-letter topic."""

    kind: ClassVar[ErrorKind] = "poison"
    reason: ClassVar[str] = "poison"


class BrokerUnavailable(RetryableError):
    """No Kafka broker answered within the bootstrap timeout."""

    reason: ClassVar[str] = "broker_unavailable"


class DecodeError(PoisonError):
    """A bus message could not be decoded into the stage's message type."""

    reason: ClassVar[str] = "decode"


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a configuration source, located by file and key."""

    source: str  # a file path or an environment variable name
    key: str  # dotted path inside the source, "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        return f"{where}: {self.message}"


class ConfigError(PermanentError):
    """Configuration is missing or invalid; carries every problem found."""

    reason: ClassVar[str] = "config"

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems) or "invalid configuration")
