"""The dead letters alert delivery writes, and the header that names a receiver.

Two kinds, on two topics. An alert a receiver failed for good goes to the
dead-letter topic with that receiver's name in the :data:`RECEIVER_HEADER`
header: ``monitor alerts replay`` re-sends it to that receiver only (see
:func:`monitor.alerts.role.deadletter_extractor`). A record that can never be
delivered goes to the poison topic, its value cut to 64 KiB.

Letters are sent through the delivery engine's producer, which flushes them
before it commits the offsets they stand for.
"""

from __future__ import annotations

import logging

from monitor.alerts.deliverable import Deliverable
from monitor.bus.base import Producer, Record
from monitor.bus.codec import encode
from monitor.clock import Clock, iso_utc
from monitor.errors import MonitorError
from monitor.messages import DeadLetter
from monitor.ops.metrics import Metrics

# The delivery engine's logger: its log lines keep one name, whichever module writes them.
log = logging.getLogger("monitor.alerts.delivery")

RECEIVER_HEADER = "monitor-receiver"


class DeadLetterWriter:
    """Builds delivery's dead letters, sends them to their topic and counts them."""

    def __init__(
        self,
        producer: Producer,
        deadletter_topic: str,
        poison_topic: str,
        metrics: Metrics,
        clock: Clock,
    ) -> None:
        self._producer = producer
        self._deadletter_topic = deadletter_topic
        self._poison_topic = poison_topic
        self._metrics = metrics
        self._clock = clock

    def receiver_failed(
        self, record: Record, alert: Deliverable, name: str, reason: str, exc: MonitorError
    ) -> None:
        """Dead-letter ``alert`` (read from ``record``) for receiver ``name``, which
        failed it for good with ``exc``; ``reason`` is the letter's explanation."""
        letter = DeadLetter(
            topic=record.topic,
            key=alert.id,
            value=encode(alert).decode(),
            reason=reason,
            error_kind=exc.kind,
            stage="delivery",
            failed_at=iso_utc(self._clock.now()),
            partition=record.partition,
            offset=record.offset,
        )
        self._producer.send(
            self._deadletter_topic, alert.id, encode(letter), {RECEIVER_HEADER: name.encode()}
        )
        self._metrics.deliveries.labels(name, "deadlettered").inc()
        self._metrics.errors.labels("delivery", exc.kind, exc.reason).inc()

    def poison(self, record: Record, exc: MonitorError) -> None:
        """Send ``record``, which can never be delivered (``exc`` says why), to the
        poison topic."""
        letter = DeadLetter(
            topic=record.topic,
            key=record.key,
            value=record.value[: 64 * 1024].decode("utf-8", "replace"),
            reason=str(exc),
            error_kind=exc.kind,
            stage="delivery",
            failed_at=iso_utc(self._clock.now()),
            partition=record.partition,
            offset=record.offset,
        )
        self._producer.send(self._poison_topic, record.key, encode(letter))
        self._metrics.messages.labels("delivery", "deadletter").inc()
        self._metrics.errors.labels("delivery", exc.kind, exc.reason).inc()
        log.warning(
            "undeliverable record %s[%d]@%d: %s",
            record.topic,
            record.partition,
            record.offset,
            exc,
        )
