"""Secrets never reach the log output, whatever the code logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.ops.logs import THIRD_PARTY_LOGGERS, configure_logging
from monitor.ops.redact import SecretRedactor, collect_secrets, install_redactor
from monitor.ops.settings import OpsSettings
from tests.support import write_config


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging(OpsSettings(log_format="json"), stream=out)
    yield out
    for name in ("monitor", *THIRD_PARTY_LOGGERS):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True  # hand records back to pytest for later tests


def test_collects_every_configured_secret(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("file-held-key\n")
    config = write_config(tmp_path, extra={
        "ops": {"http_token": "page-token"},
        "bus": {"kind": "embedded", "kafka": {
            "security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
            "sasl_plain_username": "svc", "sasl_plain_password": "sasl-pass"}},
        "alerts": {"receivers": [
            {"name": "a", "url": "https://h.example/a", "secret": "inline-secret"},
            {"name": "b", "url": "https://h.example/b", "secret_env": "HOOK_KEY",
             "headers": {"Authorization": "Bearer hdr-token"}},
            {"name": "c", "url": "https://h.example/c", "secret_file": str(tmp_path / "key")},
        ]},
    })
    settings = load_settings(config, environ={})
    found = set(collect_secrets(settings))
    expected = {"page-token", "sasl-pass", "inline-secret", "Bearer hdr-token", "file-held-key"}
    assert expected <= found  # HOOK_KEY is unset here: nothing to mask, nothing to fail


def test_message_args_extras_and_tracebacks_are_masked(json_log: io.StringIO) -> None:
    install_redactor(SecretRedactor(["sasl-pass", "page-token"]), ["monitor"])
    log = logging.getLogger("monitor.test")
    log.warning("login with %s failed", "sasl-pass", extra={"url": "http://x/?t=page-token"})
    try:
        raise RuntimeError("handshake said sasl-pass is wrong")
    except RuntimeError:
        log.exception("kafka")
    text = json_log.getvalue()
    assert "sasl-pass" not in text and "page-token" not in text
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["message"] == "login with *** failed"
    assert first["url"] == "http://x/?t=***"
    assert "handshake said *** is wrong" in second["exc_info"]


def test_short_values_are_not_treated_as_secrets() -> None:
    redactor = SecretRedactor(["ab", "abcd"])
    assert redactor.redact("ab abcd") == "ab ***"
