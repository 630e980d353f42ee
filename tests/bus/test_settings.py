"""KafkaSettings: parsing, validation, and what reaches kafka-python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from monitor.bus.settings import KafkaSettings
from monitor.config import load_settings
from monitor.errors import ConfigError


def settings(**values: Any) -> KafkaSettings:
    return KafkaSettings.model_validate(values)


def test_comma_string_and_list_give_the_same_servers() -> None:
    from_string = settings(bootstrap_servers=" kafka-1:9092, kafka-2:9092 ,")
    from_list = settings(bootstrap_servers=["kafka-1:9092", "kafka-2:9092"])
    assert from_string.bootstrap_servers == from_list.bootstrap_servers
    assert from_string.bootstrap_servers == ("kafka-1:9092", "kafka-2:9092")


@pytest.mark.parametrize("server", ["kafka-1", "kafka-1:", ":9092", "kafka-1:http", "kafka:70000"])
def test_server_without_host_and_port_is_rejected(server: str) -> None:
    with pytest.raises(ValidationError, match="is not host:port"):
        settings(bootstrap_servers=server)


def test_no_servers_is_rejected() -> None:
    with pytest.raises(ValidationError, match="bootstrap_servers"):
        settings(bootstrap_servers="")


def test_unknown_key_is_rejected_and_settings_are_frozen() -> None:
    with pytest.raises(ValidationError, match="bootstrap_server\n"):
        settings(bootstrap_server="127.0.0.1:9092")
    frozen = KafkaSettings()
    with pytest.raises(ValidationError, match="frozen"):
        frozen.client_id = "other"


def test_sasl_needs_a_mechanism_and_credentials() -> None:
    with pytest.raises(ValidationError, match="needs sasl_mechanism"):
        settings(security_protocol="SASL_SSL")
    with pytest.raises(ValidationError, match="needs sasl_plain_username"):
        settings(security_protocol="SASL_SSL", sasl_mechanism="PLAIN")


def test_password_reaches_the_client_but_never_a_repr() -> None:
    secure = settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username="monitor",
        sasl_plain_password="hunter2-secret",
        ssl_cafile="/etc/ssl/kafka-ca.pem",
    )
    assert "hunter2-secret" not in repr(secure)
    assert "hunter2-secret" not in str(secure.model_dump())
    config = secure.client_config()
    assert config["sasl_plain_password"] == "hunter2-secret"
    assert config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert config["ssl_cafile"] == "/etc/ssl/kafka-ca.pem"
    assert config["security_protocol"] == "SASL_SSL"


def test_plaintext_config_leaves_security_options_out() -> None:
    config = KafkaSettings().client_config()
    assert config == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "client_id": "monitor",
        "bootstrap_timeout_ms": 2500,
        "request_timeout_ms": 15_000,
        "reconnect_backoff_max_ms": 2_000,
        "security_protocol": "PLAINTEXT",
    }


def test_heartbeat_must_fit_three_times_in_the_session() -> None:
    with pytest.raises(ValidationError, match="heartbeat_interval_ms"):
        settings(session_timeout_ms=6000, heartbeat_interval_ms=2500)


def test_connect_budget_adds_attempts_and_pauses() -> None:
    budget = settings(bootstrap_timeout_ms=1000, connect_attempts=3, connect_backoff_ms=250)
    assert budget.connect_budget_s == 3.5


def sasl_from_file(path: Path, **values: Any) -> KafkaSettings:
    return settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="PLAIN",
        sasl_plain_username="monitor",
        sasl_plain_password_file=str(path),
        **values,
    )


def test_password_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("from-a-file \n")
    secure = sasl_from_file(secret)
    assert secure.sasl_plain_password is not None
    assert secure.sasl_plain_password.get_secret_value() == "from-a-file "  # only the newline goes
    assert secure.client_config()["sasl_plain_password"] == "from-a-file "
    assert "from-a-file" not in repr(secure)
    assert "from-a-file" not in str(secure.model_dump())
    # An empty plain value (an unset ${VAR} in Compose) does not count as given.
    assert sasl_from_file(secret, sasl_plain_password="").client_config()[
        "sasl_plain_password"
    ] == "from-a-file "


def test_password_and_password_file_together_are_rejected(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("from-a-file\n")
    with pytest.raises(ValidationError) as caught:
        sasl_from_file(secret, sasl_plain_password="inline-pass")
    message = str(caught.value)
    assert "give at most one of sasl_plain_password, sasl_plain_password_file" in message
    assert "inline-pass" not in message and "from-a-file" not in message  # no input echoed


@pytest.mark.parametrize("content", [None, "", "\n"], ids=["missing", "empty", "newline"])
def test_unusable_password_file_is_one_line_naming_key_and_path(
    tmp_path: Path, content: str | None
) -> None:
    secret = tmp_path / "kafka-password"
    if content is not None:
        secret.write_text(content)
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "bus:\n  kafka:\n    security_protocol: SASL_SSL\n    sasl_mechanism: PLAIN\n"
        f"    sasl_plain_username: monitor\n    sasl_plain_password_file: {secret}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert [str(p) for p in caught.value.problems] == [
        f"{config}: bus.kafka.sasl_plain_password_file: "
        + (f"cannot read {secret}: No such file or directory" if content is None
           else f"{secret} is empty")
    ]
    assert "\n" not in str(caught.value)


def test_password_file_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("env-named-file\n")
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "bus:\n  kafka:\n    security_protocol: SASL_SSL\n    sasl_mechanism: PLAIN\n"
        "    sasl_plain_username: monitor\n"
    )
    loaded = load_settings(
        config, environ={"MONITOR_BUS__KAFKA__SASL_PLAIN_PASSWORD_FILE": str(secret)}
    )
    assert loaded.bus.kafka.client_config()["sasl_plain_password"] == "env-named-file"
