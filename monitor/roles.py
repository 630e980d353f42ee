"""What a role is, and what every role is given.

A role (poller, nlp, alerts, delivery) is a long-running unit of work the
daemon supervises. Each can run alone in its own process on its own machine;
several processes of the same role share the work through Kafka consumer
groups.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from monitor.bus.base import Bus
from monitor.clock import Clock
from monitor.ops.metrics import Metrics

if TYPE_CHECKING:
    from monitor.config import Settings

#: Role names as accepted by ``--roles`` and the ``roles:`` config key.
ROLE_NAMES: tuple[str, ...] = ("poller", "nlp", "alerts")


@dataclass(frozen=True, slots=True)
class RoleContext:
    """The shared services a role is built with; nothing global."""

    settings: Settings
    bus: Bus
    metrics: Metrics
    clock: Clock


class Role(Protocol):
    """A supervised unit of work."""

    name: str

    def run_once(self) -> int:
        """Do all work available now and return how many items were handled.

        Used by ``monitor run --once``: the poller polls every feed once, a
        consumer drains its topics until they stay empty for a moment.
        """

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, then finish the item in hand and return."""

    def reload(self, settings: Settings) -> None:
        """Adopt new feeds or rules without dropping work (SIGHUP)."""

    def close(self) -> None:
        """Release consumers, producers and connections."""
