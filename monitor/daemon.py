"""The long-running daemon: builds the requested roles and supervises them.

Lifecycle:

* each role runs in its own thread; a role that crashes is rebuilt and
  restarted with capped exponential backoff, and the restart is counted;
* SIGTERM / SIGINT set the stop event: roles take no new work, finish the
  item in hand, commit what they handled and return; the daemon waits up to
  ``ops.shutdown_grace_s`` and exits 0. Roles still busy after that are
  abandoned (their uncommitted records are read again by the next process)
  and the exit code is 1. A second signal exits at once with code 1;
* SIGHUP reloads configuration through the same checks as ``run`` and
  ``check-config`` (:mod:`monitor.validation`) and applies every changed
  setting as :mod:`monitor.reloads` decides: handed to the running roles,
  by rebuilding the one role that reads it (``poller.*``), or logged at
  WARNING as needing a restart; a bad new config is reported and ignored;
* log handlers get a filter that masks every configured secret value.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import signal
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Protocol, runtime_checkable

from monitor.bus import open_bus
from monitor.bus.base import Bus
from monitor.clock import Clock, SystemClock
from monitor.config import Settings, load_settings
from monitor.errors import ConfigError
from monitor.feeds.parsepool import close_shared_pool
from monitor.ops.metrics import Metrics
from monitor.ops.redact import SecretRedactor, collect_secrets, install_redactor
from monitor.ops.watch import OpsWatch
from monitor.reloads import plan_reload
from monitor.retry import BackoffPolicy, backoff_delay
from monitor.roles import REGISTRY, SOURCE_STAGES, Role, RoleContext, owner_of
from monitor.validation import raise_problems, role_problems

log = logging.getLogger(__name__)

#: Role name → "module:factory", from the registry (tests swap a factory here).
#: Imported lazily so a poller process never loads spaCy.
ROLE_FACTORIES: dict[str, str] = {spec.name: spec.factory for spec in REGISTRY}
_RESTART_BACKOFF = BackoffPolicy(base_s=1.0, cap_s=60.0)
#: A role that ran this long before crashing starts its backoff afresh.
_HEALTHY_RUN_S = 300.0


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


@runtime_checkable
class PollsNow(Protocol):
    """A role that can poll feeds out of schedule (the poller)."""

    def poll_now(self, feed_ids: Collection[str] | None) -> tuple[list[str], list[str]]: ...


@dataclass(slots=True)
class RoleState:
    """What the supervisor knows about one role (read by the status page)."""

    name: str
    running: bool = False
    restarts: int = 0
    last_error: str | None = None


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
        self.bus = bus or open_bus(settings.bus, settings.state_dir)
        self.redactor = SecretRedactor(collect_secrets(settings))
        install_redactor(self.redactor)
        self.stop_event = threading.Event()
        self._reload_event = threading.Event()
        self.started_at = self.clock.now()
        self.ctx = RoleContext(settings, self.bus, self.metrics, self.clock)
        self.roles: list[Role] = build_roles(self.role_names, self.ctx)
        self.role_states = [RoleState(role.name) for role in self.roles]
        for role in self.roles:  # export every role's series from the start, at 0
            self.metrics.role_up.labels(role.name).set(0)
            self.metrics.role_restarts.labels(role.name)
        self._role_stops = [threading.Event() for _ in self.roles]
        self._threads: list[threading.Thread] = []
        #: Delivery health per receiver and the once-a-minute summary line (run only).
        self.watch = OpsWatch(self.metrics.registry, self._receivers)

    @property
    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self.stop_event.is_set()

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
        self._role_stops = [threading.Event() for _ in self.roles]
        self._threads = [self._role_thread(i) for i in range(len(self.roles))]
        for thread in self._threads:
            thread.start()
        self.watch.start()
        log.info("monitor running roles %s", ",".join(r.name for r in self.roles))
        while not self.stop_event.is_set():
            if self._reload_event.wait(0.5):
                self._reload_event.clear()
                self.reload()
        stuck = self._shutdown(self._threads)
        self.watch.close()
        self.close()
        log.info("monitor stopped", extra={"clean": not stuck})
        return 1 if stuck else 0

    def _role_thread(self, index: int) -> threading.Thread:
        # Daemon threads: a role stuck past the grace period must not keep
        # the process alive; what it had not committed is read again later.
        name = f"role-{self.roles[index].name}"
        return threading.Thread(target=self._supervise, args=(index,), name=name, daemon=True)

    def _shutdown(self, threads: Sequence[threading.Thread]) -> list[str]:
        """Stop the roles within the grace period; return the names of those still busy.

        On Kafka every role stops at once: what a role has not committed stays
        on the broker for the next process. The embedded bus dies with the
        process, so there roles stop in pipeline order and each consumer
        drains its topic (``run_once``) after its producers have stopped:
        every article a poller published is carried through to delivery.
        """
        grace = self.settings.ops.shutdown_grace_s
        deadline = self.clock.monotonic() + grace
        staged = self.bus.name == "embedded"
        log.info(
            "stopping: no new work, finishing in-flight work for up to %.0fs%s",
            grace,
            " (draining the embedded bus)" if staged else "",
        )
        if not staged:
            for stop in self._role_stops:
                stop.set()
        stuck: list[str] = []
        for index, thread in enumerate(threads):
            role = self.roles[index]
            self._role_stops[index].set()
            thread.join(max(0.0, deadline - self.clock.monotonic()))
            drained = (
                not staged
                or role.name in SOURCE_STAGES
                or thread.is_alive()
                or self._drain(role, deadline)
            )
            if thread.is_alive() or not drained:
                stuck.append(role.name)
        if stuck:
            log.error(
                "roles still busy after the %.0fs grace period, abandoning their "
                "uncommitted work: %s",
                grace,
                ", ".join(stuck),
            )
        return stuck

    def _drain(self, role: Role, deadline: float) -> bool:
        """Run ``role.run_once()`` until its input is empty; False if the deadline came first."""

        def drain() -> None:
            try:
                handled = role.run_once()
            except Exception as exc:
                log.error("draining role %s failed: %s", role.name, exc, extra={"role": role.name})
                return
            if handled:
                log.info(
                    "drained %d items in role %s", handled, role.name, extra={"role": role.name}
                )

        worker = threading.Thread(target=drain, name=f"drain-{role.name}", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - self.clock.monotonic()))
        return not worker.is_alive()

    def request_stop(self) -> None:
        """Ask every role to stop; a second request while draining exits at once."""
        if self.stop_event.is_set():
            log.error("second stop request while draining: exiting now")
            logging.shutdown()
            os._exit(1)
        self.stop_event.set()

    def request_reload(self) -> None:
        self._reload_event.set()

    def reload(self) -> None:
        """Re-read configuration and apply every changed setting; keep the old on error.

        The new config passes the checks ``run`` makes at start
        (:func:`monitor.validation.role_problems`) before anything changes.
        """
        try:
            new = load_settings(self._config_path)
            raise_problems(role_problems(new, self.role_names, os.environ)[1])
        except ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return
        plan = plan_reload(self.settings, new, (role.name for role in self.roles))
        self.settings = new
        self.redactor.update(collect_secrets(new))
        logging.getLogger("monitor").setLevel(new.ops.log_level)
        for role in self.roles:
            if role.name in plan.roles_to_rebuild:
                continue
            try:
                role.reload(new)
            except Exception as exc:
                log.error("role %s could not reload: %s", role.name, exc)
        for name, keys in (plan.rebuild or {}).items():
            self._rebuild_roles(name, keys)
        for key in plan.restart:
            log.warning("setting %s changed; it takes effect only after a restart", key)
        if plan.in_place:
            log.info("reload applies %s", ", ".join(plan.in_place))
        log.info("configuration reloaded")

    def _rebuild_roles(self, name: str, keys: Sequence[str]) -> None:
        """Stop, close and rebuild every running role called ``name`` with the new settings."""
        for index, role in enumerate(self.roles):
            if role.name != name:
                continue
            log.info("rebuilding role %s to apply %s", name, ", ".join(keys),
                     extra={"role": name})  # fmt: skip
            if not self._threads:  # not supervised (run_once): rebuild in place
                self._replace_role(index, role)
                continue
            self._role_stops[index].set()
            self._threads[index].join(self.settings.ops.shutdown_grace_s)
            if self._threads[index].is_alive():
                log.error("role %s did not stop within %.0fs; %s need a restart", name,
                          self.settings.ops.shutdown_grace_s, ", ".join(keys),
                          extra={"role": name})  # fmt: skip
                continue
            failure = self._replace_role(index, role)
            if failure is not None:
                log.error("role %s could not be rebuilt: %s; the supervisor retries", name,
                          failure, extra={"role": name})  # fmt: skip
            self._role_stops[index] = threading.Event()
            self._threads[index] = self._role_thread(index)
            self._threads[index].start()

    def _receivers(self) -> tuple[list[str], int]:
        """The receivers in force and the breaker's threshold (both follow reloads)."""
        alerts = self.settings.alerts
        return [r.name for r in alerts.receivers], alerts.breaker.failure_threshold

    def poll_now(self, feed_ids: Sequence[str] | None) -> tuple[list[str], list[str]] | None:
        """Ask this process's poller to poll ``feed_ids`` (None: all) at once.

        Returns (the ids made due, the ids no poller here polls), or None when
        no poller role runs in this process.
        """
        pollers = [role for role in self.roles if isinstance(role, PollsNow)]
        if not pollers:
            return None
        due: list[str] = []
        for poller in pollers:
            due += poller.poll_now(feed_ids)[0]
        wanted = feed_ids if feed_ids is not None else due
        return due, [fid for fid in dict.fromkeys(wanted) if fid not in due]

    def close(self) -> None:
        for role in self.roles:
            try:
                role.close()
            except Exception as exc:  # closing must reach every role
                log.warning("closing role %s: %s", role.name, exc)
        close_shared_pool()
        self.bus.close()

    # -- internals ----------------------------------------------------------
    def _supervise(self, index: int) -> None:
        """Run role ``index``; rebuild and restart it with backoff when it crashes.

        A role that returns before stop was requested is treated like a crash:
        a role's ``run`` is meant to last until the stop event. A rebuild that
        fails (say the broker is still down) is retried with growing backoff.
        """
        rng = random.Random()
        attempt = 0
        state = self.role_states[index]
        stop = self._role_stops[index]
        while not stop.is_set():
            crashed = self.roles[index]
            started = self.clock.monotonic()
            outcome = self._run_role(index, stop)
            if outcome is None:
                return
            problem, error = outcome
            attempt = 1 if self.clock.monotonic() - started > _HEALTHY_RUN_S else attempt + 1
            state.restarts += 1
            self.metrics.role_restarts.labels(crashed.name).inc()
            while True:
                delay = backoff_delay(_RESTART_BACKOFF, attempt, rng)
                state.last_error = self.redactor.redact(problem)
                log.error(
                    "role %s %s; restarting in %.1fs",
                    crashed.name,
                    state.last_error,
                    delay,
                    exc_info=error,
                    extra={"role": crashed.name, "restarts": state.restarts},
                )
                if stop.wait(delay):
                    return
                failure = self._replace_role(index, crashed)
                if failure is None:
                    break
                attempt += 1
                problem, error = f"could not be rebuilt ({type(failure).__name__}: {failure})", None

    def _run_role(self, index: int, stop: threading.Event) -> tuple[str, Exception | None] | None:
        """Run the role until it returns; None if it stopped as asked, else what went wrong."""
        role, state = self.roles[index], self.role_states[index]
        state.running = True
        self.metrics.role_up.labels(role.name).set(1)
        try:
            role.run(stop)
        except Exception as exc:
            return f"crashed ({type(exc).__name__}: {exc})", exc
        finally:
            state.running = False
            self.metrics.role_up.labels(role.name).set(0)
        return None if stop.is_set() else ("returned before stop was requested", None)

    def _replace_role(self, index: int, crashed: Role) -> Exception | None:
        """Put a freshly built role in place of ``crashed``; the error if building failed."""
        try:
            crashed.close()
        except Exception as exc:
            log.warning("closing crashed role %s: %s", crashed.name, exc)
        ctx = RoleContext(self.settings, self.bus, self.metrics, self.clock)
        try:
            built = build_roles([owner_of(crashed.name).name], ctx)
        except Exception as exc:  # e.g. the broker is still unreachable
            return exc
        for role in built:
            if role.name == crashed.name:
                self.roles[index] = role
            else:  # a factory that makes several roles: keep only the crashed one
                role.close()
        return None

    def _install_signal_handlers(self) -> None:
        handlers: dict[signal.Signals, Callable[[], None]] = {
            signal.SIGTERM: self.request_stop,
            signal.SIGINT: self.request_stop,
            signal.SIGHUP: self.request_reload,
        }
        for signum, action in handlers.items():

            def handler(
                _sig: int, _frame: FrameType | None, act: Callable[[], None] = action
            ) -> None:
                act()

            signal.signal(signum, handler)
