"""What the delivery engine reads: a record turned into an alert and its receivers.

:func:`topic_extractor` reads the alerts topic (every alert to every
receiver); :func:`deadletter_extractor` reads the alerts dead-letter topic for
``monitor alerts replay`` (each alert back to the receiver that failed it).
Both are :data:`~monitor.alerts.delivery.progress.Extract` functions: pure
functions of the record.
"""

from __future__ import annotations

from monitor.alerts.deliverable import Deliverable, decode_deliverable
from monitor.alerts.delivery.deadletters import RECEIVER_HEADER
from monitor.alerts.delivery.progress import Extract
from monitor.bus.base import Record
from monitor.bus.codec import decode
from monitor.errors import PoisonError
from monitor.messages import DeadLetter


def topic_extractor(receivers: tuple[str, ...]) -> Extract:
    """Alerts and story notifications read from the alerts topic go to every receiver."""

    def extract(record: Record) -> tuple[Deliverable, tuple[str, ...]]:
        return decode_deliverable(record.value), receivers

    return extract


def deadletter_extractor(
    receivers: tuple[str, ...], started: str, only: str | None = None
) -> Extract:
    """Dead-lettered alerts go back to the receiver that failed them (or ``only``).

    Letters written at or after ``started`` (ISO time; failures of this very
    replay) are left for the next replay (None), so a replay always ends.
    """

    def extract(record: Record) -> tuple[Deliverable, tuple[str, ...]] | None:
        letter = decode(record.value, DeadLetter)
        if letter.failed_at >= started:
            return None
        alert = decode_deliverable(letter.value.encode("utf-8"))
        failed = record.headers.get(RECEIVER_HEADER, b"").decode("utf-8", "replace")
        target = only or failed
        if target not in receivers:
            raise PoisonError(f"dead letter names unknown receiver {target!r}")
        return alert, (target,)

    return extract
