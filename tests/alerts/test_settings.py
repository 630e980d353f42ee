"""Receiver secrets from config, environment or file; never shown."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from monitor.alerts.settings import AlertSettings, ReceiverSettings, resolve_keys, resolve_secret
from monitor.config import load_settings
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


GOOD = "whsec_" + base64.b64encode(b"k" * 32).decode()


def test_keys_from_whsec_lists_or_a_plain_secret(tmp_path: Path) -> None:
    assert resolve_keys(receiver(secret=GOOD), 0) == (b"k" * 32,)
    assert resolve_keys(receiver(secret="plain one"), 0) == (b"plain one",)
    key_file = tmp_path / "keys"
    key_file.write_text(f"{GOOD}\nwhsec_{base64.b64encode(b'old-key').decode()}\n")
    assert resolve_keys(receiver(secret_file=str(key_file)), 0) == (b"k" * 32, b"old-key")
    assert resolve_keys(receiver(), 0) == ()


def test_a_bad_whsec_secret_is_one_line_naming_receiver_and_key(tmp_path: Path) -> None:
    # Given in the config file (or as ${VAR} there): refused when the file is loaded.
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump({"alerts": {"receivers": [
        {"name": "ok", "url": URL, "secret": GOOD},
        {"name": "newsroom", "url": URL, "secret": "whsec_c2VjcmV0*!"}]}}))
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    message = str(info.value)
    assert "\n" not in message and len(info.value.problems) == 1
    assert message.startswith(f"{config}: alerts.receivers[1].secret: ")
    assert "receiver 'newsroom'" in message and "not valid base64 after whsec_" in message
    assert "c2VjcmV0" not in message
    # From the environment or a file: refused when the keys are read (role start).
    with pytest.raises(ConfigError) as info:
        resolve_keys(receiver(name="desk", secret_env="HOOK_KEY"), 3,
                     {"HOOK_KEY": f"{GOOD} whsec_c2VjcmV0*!"})
    assert str(info.value) == ("HOOK_KEY: alerts.receivers.3.secret_env: receiver 'desk': "
                               "secret 2 of 2 is not valid base64 after whsec_")


def test_legacy_headers_are_off_by_default_and_need_a_secret() -> None:
    assert receiver(secret=GOOD).legacy_signature_headers is False
    assert receiver(secret=GOOD, legacy_signature_headers=True).legacy_signature_headers
    with pytest.raises(ValidationError, match="legacy_signature_headers needs a secret"):
        receiver(legacy_signature_headers=True)
