"""Operations settings: the HTTP endpoint for metrics, probes and the status page."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from monitor.secrets import fill_secret_from_file, readable_secret_file


class OpsSettings(BaseModel):
    """The ``ops:`` config section."""

    # Errors never echo the input: it holds the secrets.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    #: Serve /metrics, /healthz, /readyz and the status page.
    http_enabled: bool = True
    #: Loopback by default: the status page shows alert history.
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=9464, ge=0, le=65535)
    #: Seconds a connection may wait on one read or write (an idle client is
    #: dropped after this, freeing its thread).
    http_timeout_s: float = Field(default=10.0, gt=0, le=300)
    #: Connections served at once; one more is answered 503 at once.
    http_max_connections: int = Field(default=16, ge=1, le=1024)
    #: When set, every request except /healthz must carry it (Bearer or ?token=).
    http_token: SecretStr | None = None
    #: A file holding the token (e.g. a mounted secret); read at load and on
    #: SIGHUP, it fills ``http_token``. At most one of the two.
    http_token_file: Path | None = None
    #: "auto" is JSON lines unless stdout is a terminal.
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Seconds SIGTERM waits for in-flight work before giving up.
    shutdown_grace_s: float = Field(default=20.0, gt=0)
    #: /readyz fails while any consumer group is more than this many records behind.
    ready_max_lag: int = Field(default=1000, ge=0)
    #: How often the status page samples throughput and lag (kept for one hour).
    history_sample_s: float = Field(default=10.0, gt=0, le=300)

    _token_file_readable = field_validator("http_token_file")(readable_secret_file)

    @model_validator(mode="after")
    def _token_from_file(self) -> OpsSettings:
        fill_secret_from_file(self, "http_token", "http_token_file")
        return self
