"""Alert sink and delivery settings (the ``alerts:`` config section).

Initial version by the lead; owned and extended by the alerts package.
Receiver secrets are never written into files that get committed: give one
of ``secret`` (usually ``${ENV}`` expanded by the loader), ``secret_env``
(the name of an environment variable) or ``secret_file`` (a file holding the
key, e.g. a mounted Kubernetes secret). :func:`resolve_secret` reads it and
:func:`resolve_keys` turns it into signing keys: ``whsec_<base64>`` secrets,
several separated by whitespace while keys are rotated, or one plain secret
(:func:`monitor.alerts.signing.parse_secret`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.alerts.signing import SecretFormatError, parse_secret
from monitor.errors import ConfigError, ConfigProblem
from monitor.retry import BackoffPolicy

#: How long an alert posted to Alertmanager stays firing (its ``endsAt``).
DEFAULT_RESOLVE_AFTER_S = 3600.0
#: The shortest time between two notifications of one story to one receiver.
DEFAULT_GROUP_INTERVAL_S = 300.0


class ReceiverSettings(BaseModel):
    """One place alerts are delivered to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["webhook", "slack", "alertmanager"] = "webhook"
    url: HttpUrl
    #: Signing secret(s): ``whsec_<base64>`` (several, space-separated, while
    #: rotating keys) or one plain secret; from env/file in production.
    secret: SecretStr | None = None
    #: Name of an environment variable holding the secret(s).
    secret_env: str | None = None
    #: A file whose (stripped) content is the secret(s), e.g. one per line.
    secret_file: Path | None = None
    #: Also send the former X-Monitor-Timestamp / X-Monitor-Signature headers
    #: (signed with the first key), for receivers not yet on Standard Webhooks.
    legacy_signature_headers: bool = False
    timeout_s: float = Field(default=10.0, gt=0)
    #: Extra request headers (e.g. an Authorization for Alertmanager behind a proxy).
    headers: dict[str, str] = Field(default_factory=dict)
    #: ``kind: alertmanager`` only: each posted alert ends (resolves) this many
    #: seconds after it was sent (``endsAt``); the default is one hour.
    resolve_after_s: float = Field(default=DEFAULT_RESOLVE_AFTER_S, gt=0)

    @field_validator("secret")
    @classmethod
    def _secret_format(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            try:
                parse_secret(value.get_secret_value())
            except SecretFormatError as exc:
                name = info.data.get("name", "?")
                raise ValueError(f"receiver {name!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _one_secret_source(self) -> ReceiverSettings:
        given = [s for s in (self.secret, self.secret_env, self.secret_file) if s is not None]
        if len(given) > 1:
            raise ValueError("give at most one of secret, secret_env, secret_file")
        if self.legacy_signature_headers and not given:
            raise ValueError("legacy_signature_headers needs a secret to sign with")
        return self


class RetryBudget(BaseModel):
    """How long one alert is retried for one receiver before it is dead-lettered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=40, ge=1)
    #: Give up when this long has passed since the first attempt (2 h by default,
    #: so a receiver down for an hour loses nothing).
    max_elapsed_s: float = Field(default=7200.0, gt=0)
    backoff: BackoffPolicy = BackoffPolicy(base_s=1.0, cap_s=300.0)


class BreakerSettings(BaseModel):
    """Per-endpoint circuit breaker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Consecutive failures that open the circuit.
    failure_threshold: int = Field(default=5, ge=1)
    #: How long an open circuit refuses calls before one probe is let through.
    open_s: float = Field(default=30.0, gt=0)
    #: Ceiling of the open period, which doubles after each failed probe.
    max_open_s: float = Field(default=600.0, gt=0)


class DedupSettings(BaseModel):
    """One alert per story, repeat suppression and the default rate limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Near-duplicate statements of one rule within this window are one story.
    story_window_s: float = Field(default=6 * 3600.0, gt=0)
    #: rapidfuzz token-set ratio (0-100) at or above which two statements may be one
    #: story; they also need agreeing speakers, negations and word order (story.py).
    similarity: float = Field(default=88.0, ge=50, le=100)
    #: How many of a rule's newest stories in the window (of a comparable length) a
    #: statement is compared with. Bounds the cost of a decision on a busy rule; a
    #: copy arriving after this many newer stories of its rule is a story of its own.
    max_candidates: int = Field(default=300, ge=1, le=100_000)
    #: The exact same statement again within this window is a repeat and is dropped.
    repeat_window_s: float = Field(default=7 * 24 * 3600.0, gt=0)
    #: Default per-rule rate limit (a rule may set its own).
    rate_limit_count: int = Field(default=30, ge=1)
    rate_limit_per_s: float = Field(default=3600.0, gt=0)


class AlertSettings(BaseModel):
    """Rules file, receivers and delivery policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receivers: tuple[ReceiverSettings, ...] = ()
    dedup: DedupSettings = DedupSettings()
    retry: RetryBudget = RetryBudget()
    breaker: BreakerSettings = BreakerSettings()
    #: Alerts kept in the history store (days).
    retention_days: float = Field(default=90.0, gt=0)
    #: Hold a new alert this long (from when it was raised) before the first
    #: delivery, so syndicated copies arriving meanwhile are listed in it. 0 = send
    #: at once; later copies then only reach the history (see docs/webhooks.md).
    group_wait_s: float = Field(default=0.0, ge=0, le=3600)
    #: ``story``: one notification per story per receiver, revised when new
    #: material arrives; ``statement``: one alert per rule per statement.
    notify: Literal["story", "statement"] = "story"
    #: A story's revision reaches a receiver at least this long after the one
    #: it was last sent (newer revisions waiting meanwhile are sent as one).
    group_interval_s: float = Field(default=DEFAULT_GROUP_INTERVAL_S, ge=0, le=86400)
    #: Alerts being delivered at once by one delivery process.
    max_in_flight: int = Field(default=64, ge=1)
    #: Calls one receiver may have running at once while it answers (different
    #: alerts; revisions of one alert never overlap). After a failure it gets one
    #: call at a time until it answers again, so a struggling receiver is never
    #: hit by parallel retries.
    receiver_concurrency: int = Field(default=4, ge=1, le=64)
    #: Re-read the rules file when its modification time changes.
    watch_rules: bool = True

    @model_validator(mode="after")
    def _unique_receivers(self) -> AlertSettings:
        names = [r.name for r in self.receivers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"receiver names must be unique: {', '.join(duplicates)}")
        return self


def resolve_secret(
    receiver: ReceiverSettings, index: int, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The receiver's signing key, or None when it has none.

    Raises :class:`ConfigError` naming ``alerts.receivers.<index>`` when the
    named variable or file is missing or empty. The key itself never appears
    in a message.
    """
    env = os.environ if environ is None else environ
    key = f"alerts.receivers.{index}"
    if receiver.secret is not None:
        value = receiver.secret.get_secret_value()
        where = f"{key}.secret"
    elif receiver.secret_env is not None:
        value = env.get(receiver.secret_env, "")
        where = f"{key}.secret_env"
        if not value:
            raise ConfigError([ConfigProblem(
                "environment", where, f"variable {receiver.secret_env} is not set or empty"
            )])
    elif receiver.secret_file is not None:
        where = f"{key}.secret_file"
        try:
            value = receiver.secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError([ConfigProblem(
                str(receiver.secret_file), where, f"cannot read secret: {exc.strerror}"
            )]) from exc
    else:
        return None
    if not value:
        raise ConfigError([ConfigProblem("config", where, "secret is empty")])
    return value.encode("utf-8")


def resolve_keys(
    receiver: ReceiverSettings, index: int, environ: Mapping[str, str] | None = None
) -> tuple[bytes, ...]:
    """The receiver's signing keys (none when it has no secret), in the order given.

    Raises :class:`ConfigError` naming the receiver and ``alerts.receivers.<index>``
    when the secret cannot be read or is not a valid key; never shows the key.
    """
    value = resolve_secret(receiver, index, environ)
    if value is None:
        return ()
    source = ("secret" if receiver.secret is not None
              else "secret_env" if receiver.secret_env is not None else "secret_file")
    origin = (receiver.secret_env if receiver.secret_env is not None
              else str(receiver.secret_file) if receiver.secret_file is not None else "config")
    try:
        return parse_secret(value.decode("utf-8"))
    except SecretFormatError as exc:
        raise ConfigError([ConfigProblem(
            origin, f"alerts.receivers.{index}.{source}", f"receiver {receiver.name!r}: {exc}"
        )]) from exc
