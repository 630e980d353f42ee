"""Receiver secrets from config, environment or file; never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.alerts.settings import AlertSettings, ReceiverSettings, resolve_secret
from monitor.errors import ConfigError

URL = "http://127.0.0.1:9/hook"


def receiver(**kw: object) -> ReceiverSettings:
    return ReceiverSettings.model_validate({"name": "r", "url": URL, **kw})


def test_secret_from_value_env_or_file(tmp_path: Path) -> None:
    assert resolve_secret(receiver(secret="abc"), 0) == b"abc"
    assert resolve_secret(receiver(secret_env="HOOK_KEY"), 0, {"HOOK_KEY": "xyz"}) == b"xyz"
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    assert resolve_secret(receiver(secret_file=str(key_file)), 0) == b"from-file"
    assert resolve_secret(receiver(), 0) is None


def test_missing_secret_sources_name_the_key_not_the_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"alerts\.receivers\.2\.secret_env: variable NOPE"):
        resolve_secret(receiver(secret_env="NOPE"), 2, {})
    with pytest.raises(ConfigError, match=r"alerts\.receivers\.0\.secret_file: cannot read"):
        resolve_secret(receiver(secret_file=str(tmp_path / "absent")), 0)


def test_secret_is_masked_and_sources_are_exclusive() -> None:
    settings = receiver(secret="very-secret-value")
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in settings.model_dump_json()
    with pytest.raises(ValidationError, match="at most one of"):
        receiver(secret="a", secret_env="B")


def test_receiver_names_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="unique: r"):
        AlertSettings(receivers=(receiver(), receiver()))
