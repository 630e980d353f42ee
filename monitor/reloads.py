"""What a SIGHUP does with each setting it re-reads: a pure decision.

Every changed setting is one of three kinds, and ``docs/operations.md``
("What a reload applies") lists them for operators:

* **applied in place**: the role or the daemon reads it again (the feed
  list, rules, receivers and delivery policy, NLP lexicons and settings, the
  status-page token, the log level, the drain grace, the readiness lag);
* **applied by rebuilding a role**: the role is stopped, closed and built
  again from the new settings while the others keep running (``poller.*``:
  private addresses, timeouts, intervals, sharing …);
* **needs a restart**: the daemon logs each such key at WARNING and goes on
  with the value it started with (the bus, the roles, the state folder, the
  ops endpoint's address and limits, the log format).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config import Settings

#: Keys (or section prefixes) the running roles and daemon re-read.
APPLIED_IN_PLACE: tuple[str, ...] = (
    "feeds", "feeds_file", "rules_file", "alerts", "nlp", "ops.http_token",
    "ops.http_token_file", "ops.log_level", "ops.shutdown_grace_s", "ops.ready_max_lag",
)  # fmt: skip
#: Role name → the key prefixes it reads only when built.
APPLIED_BY_REBUILD: Mapping[str, tuple[str, ...]] = {"poller": ("poller",)}


@dataclass(frozen=True)
class ReloadPlan:
    """The changed keys, sorted by how they take effect."""

    in_place: tuple[str, ...] = ()
    #: Role name → the changed keys that make it rebuilt.
    rebuild: Mapping[str, tuple[str, ...]] | None = None
    restart: tuple[str, ...] = ()

    @property
    def roles_to_rebuild(self) -> tuple[str, ...]:
        return tuple(self.rebuild or {})


def plan_reload(old: Settings, new: Settings, running: Iterable[str]) -> ReloadPlan:
    """How each setting that differs between ``old`` and ``new`` takes effect.

    ``running`` names the roles of this process: a key only a role that does
    not run here reads is applied in place (there is nothing to rebuild).
    """
    running = set(running)
    in_place: list[str] = []
    rebuild: dict[str, list[str]] = {}
    restart: list[str] = []
    for key in changed_keys(old, new):
        role = next((r for r, keys in APPLIED_BY_REBUILD.items() if _under(key, keys)), None)
        if _under(key, APPLIED_IN_PLACE) or (role is not None and role not in running):
            in_place.append(key)
        elif role is not None:
            rebuild.setdefault(role, []).append(key)
        else:
            restart.append(key)
    return ReloadPlan(
        tuple(in_place), {r: tuple(keys) for r, keys in rebuild.items()}, tuple(restart)
    )


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """Dotted keys whose values differ; lists (feeds, receivers) compare whole."""
    before, after = _flat(old.model_dump()), _flat(new.model_dump())
    keys = sorted(key for key in {*before, *after} if before.get(key) != after.get(key))
    return (["feeds"] if old.feeds != new.feeds else []) + keys


def _flat(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in tree.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, Mapping) and value:
            flat.update(_flat(value, key))
        else:
            flat[key] = value
    return flat


def _under(key: str, prefixes: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in prefixes)
