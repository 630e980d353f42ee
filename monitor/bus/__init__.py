"""The message bus: a protocol, an in-process implementation and a Kafka one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor.bus.base import Bus

if TYPE_CHECKING:
    from monitor.config import BusSettings


def open_bus(settings: BusSettings, data_dir: Path | None = None) -> Bus:
    """Open the configured transport and make sure its topics exist.

    The embedded bus keeps its compacted topics in ``data_dir`` when given (the
    daemon gives its state folder), so state changelogged there survives a restart.

    Raises :class:`~monitor.errors.BrokerUnavailable` (one line, after bounded
    retries) when Kafka is configured and no broker answers.
    """
    if settings.kind == "kafka":
        from monitor.bus.kafka import KafkaBus  # kafka-python only when asked for

        bus: Bus = KafkaBus(settings.kafka)
    else:
        from monitor.bus.memory import MemoryBus

        bus = MemoryBus(data_dir=data_dir)
    bus.ensure_topics(settings.topics.all())
    return bus
