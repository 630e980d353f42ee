"""What a role is, what every role is given, and the one registry of roles.

A role (poller, nlp, alerts) is a long-running unit of work the
daemon supervises. Each can run alone in its own process on its own machine;
several processes of the same role share the work through Kafka consumer
groups.

:data:`REGISTRY` is the only place role names are written: the names
``--roles`` and the ``roles:`` config key accept, the factory that builds
each, the units of work (stages) each factory makes, which of them take work
from outside the bus, and which read records keyed by article id all derive
from it.
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


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One unit of work a role factory makes (``Role.name`` of what it builds)."""

    name: str
    #: Takes work from outside the bus (feeds); never drained at shutdown.
    source: bool = False
    #: Its input records are keyed by article id (logged as ``article_id``).
    article_keyed: bool = False


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """A role as named on the command line: its factory and what that makes."""

    name: str
    #: "module:callable" taking a RoleContext and returning a role or a list of
    #: roles; imported lazily so a poller process never loads spaCy.
    factory: str
    stages: tuple[StageSpec, ...]


#: Every role, in pipeline order.
REGISTRY: tuple[RoleSpec, ...] = (
    RoleSpec(
        "poller",
        "monitor.feeds.role:poller_roles",
        (StageSpec("poller", source=True), StageSpec("publisher", article_keyed=True)),
    ),
    RoleSpec("nlp", "monitor.nlp.stage:NlpRole", (StageSpec("nlp", article_keyed=True),)),
    RoleSpec(
        "alerts",
        "monitor.alerts.role:alert_roles",
        (StageSpec("alerts", article_keyed=True), StageSpec("stories"), StageSpec("delivery")),
    ),
)

#: Role names as accepted by ``--roles`` and the ``roles:`` config key.
ROLE_NAMES: tuple[str, ...] = tuple(spec.name for spec in REGISTRY)
#: Every stage name a role factory makes (also the consumer-group keys).
STAGE_NAMES: tuple[str, ...] = tuple(stage.name for spec in REGISTRY for stage in spec.stages)
#: Stages that take in work from outside the bus.
SOURCE_STAGES: frozenset[str] = frozenset(
    stage.name for spec in REGISTRY for stage in spec.stages if stage.source
)
#: Stages whose input records (articles, statements) are keyed by article id.
ARTICLE_KEYED_STAGES: frozenset[str] = frozenset(
    stage.name for spec in REGISTRY for stage in spec.stages if stage.article_keyed
)


def role_spec(name: str) -> RoleSpec:
    """The registry entry for role ``name``; KeyError if there is none."""
    for spec in REGISTRY:
        if spec.name == name:
            return spec
    raise KeyError(name)


def owner_of(stage: str) -> RoleSpec:
    """The role whose factory makes ``stage`` ("delivery" → "alerts")."""
    for spec in REGISTRY:
        if any(made.name == stage for made in spec.stages):
            return spec
    raise KeyError(stage)


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
