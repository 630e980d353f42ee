"""Secrets given as files (``…_file`` options), shared by the config sections.

``ops.http_token_file`` and ``bus.kafka.sasl_plain_password_file`` read their
value here while the config is validated, so a bad file is reported under its
own key like any other config problem.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_core import PydanticCustomError


def read_secret_file(path: Path) -> str:
    """The secret held in ``path``: its text without the trailing newline.

    Raises a validation error whose one-line message names the path (never the
    content) when the file cannot be read, is not UTF-8 or is empty; pydantic
    puts the config key in front of it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PydanticCustomError(
            "secret_file",
            "cannot read {path}: {reason}",
            {"path": str(path), "reason": exc.strerror or type(exc).__name__},
        ) from None
    except UnicodeDecodeError:
        raise PydanticCustomError(
            "secret_file", "{path} is not UTF-8 text", {"path": str(path)}
        ) from None
    value = text.rstrip("\r\n")
    if not value:
        raise PydanticCustomError("secret_file", "{path} is empty", {"path": str(path)})
    return value


def given(secret: SecretStr | None) -> bool:
    """Whether a plain secret value is set; empty (an unset ``${VAR}`` in Compose) is not."""
    return secret is not None and secret.get_secret_value() != ""


def readable_secret_file(path: Path | None) -> Path | None:
    """A field validator for a ``…_file`` option: an unreadable file is reported
    under that option's own key."""
    if path is not None:
        read_secret_file(path)
    return path


def fill_secret_from_file(model: object, value_field: str, file_field: str) -> None:
    """Set ``value_field`` of a model being validated from its ``file_field``.

    At most one of the two may be given (an empty value counts as not given).
    Called from a model validator; the model is frozen, so the value is set
    once, here, while it is still being built.
    """
    path = getattr(model, file_field)
    if path is None:
        return
    if given(getattr(model, value_field)):
        raise ValueError(f"give at most one of {value_field}, {file_field}")
    object.__setattr__(model, value_field, SecretStr(read_secret_file(path)))
