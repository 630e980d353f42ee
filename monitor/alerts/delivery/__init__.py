"""Alert delivery: alerts from a topic to every receiver, never losing one.

The package's surface is what ``__all__`` lists; its modules are its own:

* :class:`DeliveryEngine` (``engine``) — the I/O shell: takes records, drives
  each alert to every receiver, commits what is settled; ``step`` for the
  long-running role, ``drain`` for ``run --once`` and replays;
* :func:`topic_extractor`, :func:`deadletter_extractor` (``extractors``) —
  what the engine reads, and :data:`Extract`, their type;
* :data:`RECEIVER_HEADER` (``deadletters``) — the header naming the receiver
  an alert was dead-lettered for;
* :class:`Progress`, :func:`next_attempt` (``progress``) — the pure retry timing.

Inside, the engine composes ``receivers`` (the calls and when each receiver
may be called, with the pure circuit breaker of ``breaker``), ``history``
(what the history store cannot take while it is down), ``records`` (the
outcomes shared through the delivery changelog, so a process taking a
partition over knows what its owner delivered) and ``deadletters`` (the
letters); they answer the engine and never call back into it.
"""

from monitor.alerts.delivery.deadletters import RECEIVER_HEADER
from monitor.alerts.delivery.engine import DeliveryEngine
from monitor.alerts.delivery.extractors import deadletter_extractor, topic_extractor
from monitor.alerts.delivery.progress import Extract, Progress, next_attempt

__all__ = [
    "RECEIVER_HEADER",
    "DeliveryEngine",
    "Extract",
    "Progress",
    "deadletter_extractor",
    "next_attempt",
    "topic_extractor",
]
