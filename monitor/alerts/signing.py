"""Webhook signatures: Standard Webhooks (https://www.standardwebhooks.com).

Headers sent with every request to a receiver that has a secret:

``webhook-id``         the message id: the same on every retry, new per story revision
``webhook-timestamp``  Unix seconds when the request was signed
``webhook-signature``  ``v1,<base64 HMAC-SHA256>`` of ``id + "." + timestamp + "." + body``,
                       one per key, separated by spaces (key rotation)

Secrets (:func:`parse_secret`): ``whsec_<base64>``, the Standard Webhooks
form, whose key is the base64-decoded bytes; several such secrets separated
by whitespace are several keys, each signing the request. Any other value
is one plain secret, and its key is the value's UTF-8 bytes as written (the
same key as ``whsec_`` + base64 of those bytes).

The monitor's former scheme, ``X-Monitor-Timestamp`` and
``X-Monitor-Signature: sha256=<hex HMAC of timestamp + "." + body>`` with
the first key, is sent only to receivers that ask for it
(``legacy_signature_headers``). See ``docs/webhooks.md``.

Everything here is a pure function of its arguments (the time included).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import ClassVar

from monitor.errors import PermanentError

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
LEGACY_TIMESTAMP_HEADER = "X-Monitor-Timestamp"
LEGACY_SIGNATURE_HEADER = "X-Monitor-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
#: Receivers should refuse signatures older (or newer) than this.
DEFAULT_TOLERANCE_S = 300


class SecretFormatError(PermanentError):
    """A secret that is not a usable key; the message never holds the secret.

    The settings turn it into a ConfigError (or a validation error) naming the
    receiver and the config key.
    """

    reason: ClassVar[str] = "secret_format"


def parse_secret(value: str) -> tuple[bytes, ...]:
    """The signing keys a configured secret stands for, newest first as written.

    ``whsec_<base64>`` (padding optional, standard alphabet) is one key, the
    decoded bytes; several of them separated by whitespace are several keys.
    A value that does not start with ``whsec_`` is one plain secret: its key
    is its UTF-8 bytes, exactly as given.
    """
    if not value.strip():
        raise SecretFormatError("secret is empty")
    if not value.lstrip().startswith(SECRET_PREFIX):
        return (value.encode("utf-8"),)
    parts = value.split()
    keys = []
    for number, part in enumerate(parts, start=1):
        which = f"secret {number} of {len(parts)}" if len(parts) > 1 else "secret"
        if not part.startswith(SECRET_PREFIX):
            raise SecretFormatError(
                f"{which} does not start with {SECRET_PREFIX} (a list of secrets must give "
                f"each in {SECRET_PREFIX}<base64> form)")
        encoded = part[len(SECRET_PREFIX):]
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error as exc:
            raise SecretFormatError(
                f"{which} is not valid base64 after {SECRET_PREFIX}") from exc
        if not key:
            raise SecretFormatError(f"{which} holds no key bytes after {SECRET_PREFIX}")
        keys.append(key)
    return tuple(keys)


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``webhook-signature`` entry: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    message = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION}," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, with one signature per key."""
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(k, msg_id, timestamp, body) for k in keys),
    }


def verify(
    keys: Sequence[bytes],
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether a request carries a fresh signature by one of ``keys`` (the receiver's check)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get(ID_HEADER, "")
    stamp = lowered.get(TIMESTAMP_HEADER, "")
    given = lowered.get(SIGNATURE_HEADER, "").split()
    if not msg_id or not stamp.isdigit() or not given or abs(now - int(stamp)) > tolerance_s:
        return False
    expected = [signature(k, msg_id, int(stamp), body) for k in keys]
    return any(hmac.compare_digest(e, g) for e in expected for g in given)


def legacy_signature(key: bytes, timestamp: int, body: bytes) -> str:
    """The former ``X-Monitor-Signature`` value: ``sha256=`` + hex HMAC of ``timestamp.body``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def legacy_headers(key: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    """The former headers, for receivers with ``legacy_signature_headers: true``."""
    return {LEGACY_TIMESTAMP_HEADER: str(timestamp),
            LEGACY_SIGNATURE_HEADER: legacy_signature(key, timestamp, body)}


def verify_legacy(
    key: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether a request's former-scheme signature is valid and fresh."""
    if not timestamp_header or not signature_header or not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(legacy_signature(key, timestamp, body), signature_header)
