"""The long-running daemon: builds the requested roles and supervises them.

Lifecycle:

* each role runs in its own thread; a role that crashes is rebuilt and
  restarted with capped exponential backoff, and the restart is counted;
* SIGTERM / SIGINT set the stop event: roles finish the item in hand, commit
  what they handled and return; the daemon waits up to
  ``ops.shutdown_grace_s`` and exits 0;
* SIGHUP reloads configuration (feeds, rules, lexicons) and hands it to every
  role without stopping them; a bad new config is reported and ignored.
"""

from __future__ import annotations

import importlib
import logging
import random
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from monitor.bus import open_bus
from monitor.bus.base import Bus
from monitor.clock import Clock, SystemClock
from monitor.config import Settings, load_settings
from monitor.errors import ConfigError
from monitor.ops.metrics import Metrics
from monitor.retry import BackoffPolicy, backoff_delay
from monitor.roles import Role, RoleContext

log = logging.getLogger(__name__)

#: Role name → "module:factory"; a factory takes a RoleContext and returns roles.
#: Imported lazily so a poller process never loads spaCy.
ROLE_FACTORIES: dict[str, str] = {
    "poller": "monitor.feeds.role:PollerRole",
    "nlp": "monitor.nlp.stage:NlpRole",
    "alerts": "monitor.alerts.role:alert_roles",
}
_RESTART_BACKOFF = BackoffPolicy(base_s=1.0, cap_s=60.0)


def build_roles(names: Sequence[str], ctx: RoleContext) -> list[Role]:
    """Instantiate the roles for ``names`` in pipeline order."""
    roles: list[Role] = []
    for name in ROLE_FACTORIES:
        if name not in names:
            continue
        module_name, _, attr = ROLE_FACTORIES[name].partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        made = factory(ctx)
        roles.extend(made if isinstance(made, list) else [made])
    return roles


def _builds(name: str, role: Role) -> bool:
    """Whether the factory for role ``name`` makes roles like ``role``."""
    return name == role.name or (name == "alerts" and role.name == "delivery")


class Daemon:
    """Runs roles until told to stop."""

    def __init__(
        self,
        settings: Settings,
        roles: Sequence[str],
        *,
        config_path: Path | None = None,
        bus: Bus | None = None,
        metrics: Metrics | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.role_names = tuple(roles)
        self._config_path = config_path
        self.metrics = metrics or Metrics()
        self.clock = clock or SystemClock()
        self.bus = bus or open_bus(settings.bus)
        self.stop_event = threading.Event()
        self._reload_event = threading.Event()
        self.ctx = RoleContext(settings, self.bus, self.metrics, self.clock)
        self.roles: list[Role] = build_roles(self.role_names, self.ctx)

    # -- one pass -----------------------------------------------------------
    def run_once(self) -> int:
        """Run every role's available work once, in pipeline order."""
        total = 0
        for role in self.roles:
            handled = role.run_once()
            log.info("role %s handled %d items", role.name, handled, extra={"role": role.name})
            total += handled
        return total

    # -- forever ------------------------------------------------------------
    def run(self, install_signals: bool = True) -> int:
        """Supervise roles until SIGTERM/SIGINT; return the process exit code."""
        if install_signals:
            self._install_signal_handlers()
        threads = [
            threading.Thread(target=self._supervise, args=(i,), name=f"role-{role.name}")
            for i, role in enumerate(self.roles)
        ]
        for thread in threads:
            thread.start()
        log.info("monitor running roles %s", ",".join(r.name for r in self.roles))
        while not self.stop_event.is_set():
            if self._reload_event.wait(0.5):
                self._reload_event.clear()
                self.reload()
        deadline = self.clock.monotonic() + self.settings.ops.shutdown_grace_s
        for thread in threads:
            thread.join(max(0.0, deadline - self.clock.monotonic()))
        stuck = [t.name for t in threads if t.is_alive()]
        if stuck:
            log.error("roles still busy after the grace period: %s", ", ".join(stuck))
        self.close()
        log.info("monitor stopped")
        return 0

    def request_stop(self) -> None:
        self.stop_event.set()

    def request_reload(self) -> None:
        self._reload_event.set()

    def reload(self) -> None:
        """Re-read configuration and hand it to every role; keep the old on error."""
        try:
            new = load_settings(self._config_path)
        except ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return
        self.settings = new
        for role in self.roles:
            try:
                role.reload(new)
            except Exception as exc:
                log.error("role %s could not reload: %s", role.name, exc)
        log.info("configuration reloaded")

    def close(self) -> None:
        for role in self.roles:
            try:
                role.close()
            except Exception as exc:  # closing must reach every role
                log.warning("closing role %s: %s", role.name, exc)
        self.bus.close()

    # -- internals ----------------------------------------------------------
    def _supervise(self, index: int) -> None:
        """Run role ``index``; rebuild and restart it with backoff when it crashes."""
        rng = random.Random()
        attempt = 0
        while not self.stop_event.is_set():
            role = self.roles[index]
            self.metrics.role_up.labels(role.name).set(1)
            try:
                role.run(self.stop_event)
                return
            except Exception as exc:
                attempt += 1
                delay = backoff_delay(_RESTART_BACKOFF, attempt, rng)
                log.error(
                    "role %s crashed (%s: %s); restarting in %.1fs",
                    role.name, type(exc).__name__, exc, delay, extra={"role": role.name},
                )
                self.metrics.role_restarts.labels(role.name).inc()
                self._replace_role(index, role)
                self.stop_event.wait(delay)
            finally:
                self.metrics.role_up.labels(role.name).set(0)

    def _replace_role(self, index: int, crashed: Role) -> None:
        try:
            crashed.close()
        except Exception as exc:
            log.warning("closing crashed role %s: %s", crashed.name, exc)
        ctx = RoleContext(self.settings, self.bus, self.metrics, self.clock)
        owner = next(n for n in self.role_names if n in ROLE_FACTORIES and _builds(n, crashed))
        for role in build_roles([owner], ctx):
            if role.name == crashed.name:
                self.roles[index] = role
            else:  # a factory that makes several roles: keep only the crashed one
                role.close()

    def _install_signal_handlers(self) -> None:
        handlers: dict[signal.Signals, Callable[[], None]] = {
            signal.SIGTERM: self.request_stop,
            signal.SIGINT: self.request_stop,
            signal.SIGHUP: self.request_reload,
        }
        for signum, action in handlers.items():

            def handler(_sig: int, _frame: FrameType | None, act: Callable[[], None] = action) -> None:
                act()

            signal.signal(signum, handler)
