"""Settings for the Kafka transport (:class:`monitor.bus.kafka.KafkaBus`).

Loaded once from config (``kafka:`` in ``config/monitor.yaml`` plus ``MONITOR_…``
overrides, composed by :mod:`monitor.config`) and passed in; never read globally.
The defaults suit the single-node broker started by ``scripts/kafka-local``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from monitor.secrets import fill_secret_from_file, readable_secret_file

#: Seconds a stage's consumer may have records waiting and read none before the
#: stage watchdog calls it stalled (``bus.stage_stall_after_s``). Far above a
#: rebalance (seconds) or a retry pause (at most 30 s; a retried batch counts as read).
STAGE_STALL_AFTER_S = 120.0
#: The shortest stall time accepted: below it a rebalance or a retry pause could
#: read as a stall and rebuild a healthy stage.
MIN_STAGE_STALL_AFTER_S = 30.0

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(BaseModel):
    """How to reach the brokers, and how clients behave towards them."""

    # Errors never echo the input: it holds the secrets.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    bootstrap_servers: tuple[str, ...] = Field(
        default=("127.0.0.1:9092",),
        min_length=1,
        description="host:port pairs; a comma-separated string is accepted too",
    )
    client_id: str = Field(default="monitor", min_length=1)

    # Connecting. kafka-python would wait 30 s for a dead broker; we fail within
    # connect_attempts x bootstrap_timeout_ms with a one-line BrokerUnavailable.
    bootstrap_timeout_ms: int = Field(default=2500, ge=100, le=120_000)
    connect_attempts: int = Field(default=2, ge=1, le=10)
    connect_backoff_ms: int = Field(default=200, ge=0, le=30_000)
    request_timeout_ms: int = Field(default=15_000, ge=1_000, le=300_000)
    # After a broker restart clients reconnect within this (kafka-python: up to 30 s).
    reconnect_backoff_max_ms: int = Field(default=2_000, ge=50, le=60_000)

    # Security; the password is a SecretStr so it never shows up in logs or reprs.
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: SecretStr | None = None
    # A file holding the password (e.g. a mounted secret), read at load and on
    # SIGHUP; it fills sasl_plain_password. At most one of the two.
    sasl_plain_password_file: Path | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    # Topics created by ensure_topics.
    partitions: int = Field(default=3, ge=1, le=10_000)
    replication_factor: int = Field(default=1, ge=1, le=16)

    # Consumers.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    heartbeat_interval_ms: int = Field(default=1_000, ge=100, le=60_000)
    max_poll_interval_ms: int = Field(default=300_000, ge=1_000)
    max_poll_records: int = Field(default=500, ge=1, le=100_000)

    # Producers (always idempotent with acks=all).
    linger_ms: int = Field(default=5, ge=0, le=60_000)

    @field_validator("bootstrap_servers", mode="before")
    @classmethod
    def _split_comma_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("bootstrap_servers")
    @classmethod
    def _host_and_port(cls, servers: tuple[str, ...]) -> tuple[str, ...]:
        for server in servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return servers

    _password_file_readable = field_validator("sasl_plain_password_file")(readable_secret_file)

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        fill_secret_from_file(self, "sasl_plain_password", "sasl_plain_password_file")
        if self.security_protocol.startswith("SASL_") and self.sasl_mechanism is None:
            raise ValueError(f"security_protocol {self.security_protocol} needs sasl_mechanism")
        if self.sasl_mechanism is not None and (
            self.sasl_plain_username is None or self.sasl_plain_password is None
        ):
            raise ValueError(
                "sasl_mechanism needs sasl_plain_username and sasl_plain_password"
                " (or sasl_plain_password_file)"
            )
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be at most a third of session_timeout_ms")
        return self

    @property
    def connect_budget_s(self) -> float:
        """Longest time spent failing to reach a broker before giving up."""
        attempts = self.connect_attempts
        return (
            attempts * self.bootstrap_timeout_ms + (attempts - 1) * self.connect_backoff_ms
        ) / 1000

    def client_config(self) -> dict[str, Any]:
        """Keyword arguments shared by every kafka-python client (producer, consumer, admin)."""
        config: dict[str, Any] = {
            "bootstrap_servers": list(self.bootstrap_servers),
            "client_id": self.client_id,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "request_timeout_ms": self.request_timeout_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
            "security_protocol": self.security_protocol,
        }
        optional = {
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.sasl_plain_username,
            "sasl_plain_password": (
                self.sasl_plain_password.get_secret_value() if self.sasl_plain_password else None
            ),
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
        }
        config.update({key: value for key, value in optional.items() if value is not None})
        return config
