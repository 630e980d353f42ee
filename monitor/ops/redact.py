"""Keep configured secrets out of the logs, whatever code tries to log them.

Secrets are held as :class:`pydantic.SecretStr` and never formatted on
purpose; this filter is the second line of defence against a library or an
exception message that echoes one (a URL with credentials, a failed SASL
handshake). It replaces every configured secret value in the message, in
string ``extra`` fields and in the formatted traceback with ``***``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.config import Settings

MASK = "***"
#: Values shorter than this are not treated as secrets: masking "a" would
#: shred every log line, and such a value protects nothing anyway.
MIN_SECRET_LENGTH = 4
#: Attributes every LogRecord has; anything else came in through ``extra``.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def collect_secrets(settings: Settings) -> tuple[str, ...]:
    """Every secret value the configuration holds or points to."""
    from monitor.alerts.settings import resolve_secret

    found: list[str] = []
    # ops.http_token_file and bus.kafka.sasl_plain_password_file are read while
    # the settings are validated, into http_token and sasl_plain_password.
    if settings.ops.http_token is not None:
        found.append(settings.ops.http_token.get_secret_value())
    password = settings.bus.kafka.sasl_plain_password
    if password is not None:
        found.append(password.get_secret_value())
    for index, receiver in enumerate(settings.alerts.receivers):
        try:
            key = resolve_secret(receiver, index)
        except ConfigError:  # reported by whoever needs the key; nothing to mask
            key = None
        if key is not None:
            found.append(key.decode("utf-8", "replace"))
        found.extend(receiver.headers.values())
    return tuple(sorted({s for s in found if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True))


class SecretRedactor(logging.Filter):
    """A handler filter that masks known secret values; update it on reload."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        """Replace the set of values to mask (longest first, so overlaps mask fully)."""
        kept = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        with self._lock:
            self._secrets = tuple(sorted(kept, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, name, self.redact(value))
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install_redactor(redactor: SecretRedactor, logger_names: Iterable[str] | None = None) -> None:
    """Attach ``redactor`` to every handler of the named loggers ("" is the root).

    By default: the monitor's loggers, the third-party ones that
    :func:`~monitor.ops.logs.configure_logging` routes, and the root.
    """
    from monitor.ops.logs import THIRD_PARTY_LOGGERS

    if logger_names is None:
        logger_names = ("monitor", *THIRD_PARTY_LOGGERS, "")
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if redactor not in handler.filters:
                handler.addFilter(redactor)
