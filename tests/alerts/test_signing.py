"""Webhook signatures as pure functions: Standard Webhooks, secrets, the former scheme."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from monitor.alerts.signing import (
    SecretFormatError,
    legacy_headers,
    legacy_signature,
    parse_secret,
    signature,
    signed_headers,
    verify,
    verify_legacy,
)
from monitor.errors import MonitorError

KEY = b"k3y-of-twenty-four-bytes"
OTHER = b"another-key-of-24-bytes!"
BODY = b'{"id":"x"}'
STAMP = 1_700_000_000


def whsec(key: bytes) -> str:
    return "whsec_" + base64.b64encode(key).decode()


def test_signature_is_v1_base64_hmac_sha256_of_id_timestamp_body() -> None:
    digest = hmac.new(KEY, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert signature(KEY, "msg_1", STAMP, BODY) == "v1," + base64.b64encode(digest).decode()


def test_every_key_signs_and_the_signatures_are_space_separated() -> None:
    headers = signed_headers([KEY, OTHER], "msg_1", STAMP, BODY)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].split(" ") == [
        signature(KEY, "msg_1", STAMP, BODY), signature(OTHER, "msg_1", STAMP, BODY)]


def test_verify_accepts_any_configured_key_and_refuses_tampering_and_staleness() -> None:
    headers = signed_headers([KEY, OTHER], "msg_1", STAMP, BODY)
    assert verify([KEY], headers, BODY, now=STAMP + 100)
    assert verify([OTHER], headers, BODY, now=STAMP + 100)
    assert verify([b"x", OTHER], {k.upper(): v for k, v in headers.items()}, BODY, now=STAMP)
    assert not verify([KEY], headers, BODY + b" ", now=STAMP)
    assert not verify([b"wrong"], headers, BODY, now=STAMP)
    assert not verify([KEY], {**headers, "webhook-id": "msg_2"}, BODY, now=STAMP)
    assert not verify([KEY], headers, BODY, now=STAMP + 301)
    assert not verify([KEY], headers, BODY, now=STAMP - 301)
    assert not verify([KEY], {**headers, "webhook-timestamp": "soon"}, BODY, now=STAMP)
    assert not verify([KEY], {}, BODY, now=STAMP)


def test_whsec_secrets_decode_to_their_key_bytes() -> None:
    assert parse_secret(whsec(KEY)) == (KEY,)
    unpadded = whsec(b"abcd").rstrip("=") + "  "
    assert parse_secret(whsec(b"abcd")) == parse_secret(unpadded) == (b"abcd",)
    # Several secrets, separated by spaces or newlines (a file), for rotation.
    assert parse_secret(f"{whsec(KEY)} {whsec(OTHER)}") == (KEY, OTHER)
    assert parse_secret(f"{whsec(KEY)}\n{whsec(OTHER)}\n") == (KEY, OTHER)


def test_a_plain_secret_is_its_utf8_bytes_as_written() -> None:
    assert parse_secret("change me") == (b"change me",)
    assert parse_secret("clé") == ("clé".encode(),)
    # The same key as whsec_ + base64 of those bytes.
    assert parse_secret(whsec(b"change me")) == parse_secret("change me")


@pytest.mark.parametrize(("value", "message"), [
    ("whsec_not*base64", "secret is not valid base64 after whsec_"),
    ("whsec_abcde", "secret is not valid base64 after whsec_"),
    ("whsec_", "secret holds no key bytes"),
    (f"{whsec(KEY)} whsec_!!", "secret 2 of 2 is not valid base64"),
    (f"{whsec(KEY)} plain", "secret 2 of 2 does not start with whsec_"),
    ("   ", "secret is empty"),
])
def test_malformed_secrets_are_refused_without_showing_them(value: str, message: str) -> None:
    with pytest.raises(SecretFormatError, match=message) as info:
        parse_secret(value)
    assert isinstance(info.value, MonitorError)
    for part in value.split():
        if len(part) > 6:
            assert part not in str(info.value)


def test_the_former_scheme_is_unchanged() -> None:
    expected = hmac.new(KEY, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert legacy_signature(KEY, STAMP, BODY) == f"sha256={expected}"
    headers = legacy_headers(KEY, STAMP, BODY)
    ts, sig = headers["X-Monitor-Timestamp"], headers["X-Monitor-Signature"]
    assert verify_legacy(KEY, ts, sig, BODY, now=STAMP + 100)
    assert not verify_legacy(KEY, ts, sig, BODY + b" ", now=STAMP + 100)
    assert not verify_legacy(b"other", ts, sig, BODY, now=STAMP + 100)
    assert not verify_legacy(KEY, ts, sig, BODY, now=STAMP + 301)
    assert not verify_legacy(KEY, "soon", sig, BODY, now=STAMP)
    assert not verify_legacy(KEY, None, sig, BODY, now=STAMP)
