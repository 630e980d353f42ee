"""Logging setup: JSON lines for machines, plain text on a terminal.

Every event is one line. Context such as ``feed_id`` or ``article_id`` is
passed with ``extra={...}`` and becomes a JSON field. ``role`` is filled in
by :class:`RoleFilter` from the thread that logged, unless the call passed one.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from monitor.ops.settings import OpsSettings

#: Libraries whose records go to the monitor's log stream, and from what level.
THIRD_PARTY_LOGGERS: dict[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "trafilatura": logging.WARNING,
    "kafka": logging.CRITICAL,
}

#: Thread-name prefixes of the daemon's per-role threads (``role-nlp``, ``drain-nlp``).
_ROLE_THREAD_PREFIXES = ("role-", "drain-")
#: Roles whose thread pools (``ThreadPoolExecutor(thread_name_prefix=role)``,
#: threads ``<role>_<n>``) do work on the role's behalf.
_POOL_ROLES = frozenset({"delivery", "poller"})


def role_of_thread(name: str) -> str | None:
    """The role a thread works for, from its name; None for other threads."""
    for prefix in _ROLE_THREAD_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    pool, sep, number = name.rpartition("_")
    if sep and pool in _POOL_ROLES and number.isdigit():
        return pool
    return None


class RoleFilter(logging.Filter):
    """Sets ``role`` on every record that has none, from the thread that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "role", None) is None:
            role = role_of_thread(record.threadName or "")
            if role is not None:
                record.role = role
        return True


def configure_logging(settings: OpsSettings, stream: object = None) -> None:
    """Route the ``monitor`` loggers to ``stream`` (stderr by default) in the chosen format."""
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)  # type: ignore[arg-type]
    handler.addFilter(RoleFilter())
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not getattr(out, "isatty", lambda: False)()
    )
    if use_json:
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",  # ISO-8601 UTC with milliseconds
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger("monitor")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    root.propagate = False
    # Third-party chatter only when it matters, in the same format and through
    # the same handler (so the secret filter sees it too). kafka-python logs
    # dozens of lines per failed connect; the bus translates every failure
    # into one MonitorError, which is what gets reported.
    for name, level in THIRD_PARTY_LOGGERS.items():
        noisy = logging.getLogger(name)
        noisy.setLevel(level)
        noisy.handlers[:] = [handler]
        noisy.propagate = False
