"""Logging setup: JSON lines for machines, plain text on a terminal.

Every event is one line. Context such as ``role``, ``feed`` or
``article_id`` is passed with ``extra={...}`` and becomes a JSON field.
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


def configure_logging(settings: OpsSettings, stream: object = None) -> None:
    """Route the ``monitor`` loggers to ``stream`` (stderr by default) in the chosen format."""
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)  # type: ignore[arg-type]
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
