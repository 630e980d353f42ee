"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``.

Headers sent with every signed request:

``X-Monitor-Timestamp``  Unix seconds when the request was signed
``X-Monitor-Signature``  ``sha256=<lower-case hex HMAC>``

A receiver recomputes the HMAC with the shared key over the timestamp
header, a dot and the raw body bytes, compares it in constant time, and
rejects timestamps too far from its own clock (replay protection). See
``docs/webhooks.md``.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Monitor-Timestamp"
SIGNATURE_HEADER = "X-Monitor-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Receivers should refuse signatures older (or newer) than this.
DEFAULT_TOLERANCE_S = 300


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Monitor-Signature`` value for ``body`` signed at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(
    secret: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether a request's signature is valid and fresh (the receiver's check)."""
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, signature_header)
