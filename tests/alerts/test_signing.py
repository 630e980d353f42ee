"""Webhook signatures, checked the way a receiver checks them."""

from __future__ import annotations

import hashlib
import hmac

from monitor.alerts.signing import signature, signed_headers, verify

KEY = b"k3y"
BODY = b'{"id":"x"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(KEY, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(KEY, 1_700_000_000, BODY) == f"sha256={expected}"


def test_verify_rejects_tampering_wrong_key_and_stale_timestamps() -> None:
    headers = signed_headers(KEY, 1_700_000_000, BODY)
    ts, sig = headers["X-Monitor-Timestamp"], headers["X-Monitor-Signature"]
    assert verify(KEY, ts, sig, BODY, now=1_700_000_100)
    assert not verify(KEY, ts, sig, BODY + b" ", now=1_700_000_100)
    assert not verify(b"other", ts, sig, BODY, now=1_700_000_100)
    assert not verify(KEY, ts, sig, BODY, now=1_700_000_301)
    assert not verify(KEY, "soon", sig, BODY, now=1_700_000_000)
    assert not verify(KEY, None, sig, BODY, now=1_700_000_000)
