"""Secrets never reach the log output, whatever the code logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.config import load_settings
from monitor.errors import ConfigError
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


def test_secrets_read_from_files_are_collected_and_masked(
    tmp_path: Path, json_log: io.StringIO
) -> None:
    (tmp_path / "token").write_text("token-from-file\n")
    (tmp_path / "kafka").write_text("sasl-from-file\n")
    config = write_config(tmp_path, extra={
        "ops": {"http_token_file": str(tmp_path / "token")},
        "bus": {"kind": "embedded", "kafka": {
            "security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
            "sasl_plain_username": "svc", "sasl_plain_password_file": str(tmp_path / "kafka")}},
    })
    settings = load_settings(config, environ={})
    assert settings.ops.http_token is not None
    assert settings.ops.http_token.get_secret_value() == "token-from-file"
    found = set(collect_secrets(settings))
    assert {"token-from-file", "sasl-from-file"} <= found
    install_redactor(SecretRedactor(found), ["monitor"])
    logging.getLogger("monitor.test").warning("sent %s and sasl-from-file", "token-from-file")
    text = json_log.getvalue()
    assert "token-from-file" not in text and "sasl-from-file" not in text
    assert json.loads(text)["message"] == "sent *** and ***"


def test_token_file_from_the_environment_and_empty_token_is_not_given(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("token-from-file")  # no newline at all is fine too
    config = write_config(tmp_path)
    # Compose passes MONITOR_OPS__HTTP_TOKEN="" when the variable is unset.
    settings = load_settings(config, environ={
        "MONITOR_OPS__HTTP_TOKEN": "", "MONITOR_OPS__HTTP_TOKEN_FILE": str(tmp_path / "token"),
    })
    assert settings.ops.http_token is not None
    assert settings.ops.http_token.get_secret_value() == "token-from-file"


def test_token_and_token_file_together_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("token-from-file\n")
    with pytest.raises(ValidationError) as caught:
        OpsSettings.model_validate(
            {"http_token": "inline-token", "http_token_file": str(tmp_path / "token")}
        )
    message = str(caught.value)
    assert "give at most one of http_token, http_token_file" in message
    assert "inline-token" not in message and "token-from-file" not in message


def test_unreadable_token_file_is_one_line_naming_key_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-token"
    config = write_config(tmp_path, extra={"ops": {"http_token_file": str(missing)}})
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert [str(p) for p in caught.value.problems] == [
        f"{config}: ops.http_token_file: cannot read {missing}: No such file or directory"
    ]
    assert "\n" not in str(caught.value)
