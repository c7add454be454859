"""Signed URLs and credential parsing: the pure parts of the HTTP adapter."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from lading.entrypoints.http.auth import Identity, presented_credential
from lading.entrypoints.http.errors import SignatureInvalid, UrlExpired
from lading.entrypoints.http.signed_urls import UrlSigner


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def parts(signed) -> tuple[str, dict[str, str]]:
    url = urlparse(signed.path_and_query)
    return url.path, {k: v[0] for k, v in parse_qs(url.query).items()}


def test_a_signed_url_verifies_and_names_its_workspace():
    signer = UrlSigner("secret", clock=Clock())
    path, q = parts(signer.sign("PUT", "/v1/uploads/j1", "acme", 60))
    assert signer.verify("PUT", path, q["ws"], q["expires"], q["signature"]) == "acme"


@pytest.mark.parametrize("change", ["method", "path", "workspace", "expires", "secret"])
def test_changing_anything_signed_breaks_the_signature(change):
    signer = UrlSigner("secret", clock=Clock())
    path, q = parts(signer.sign("PUT", "/v1/uploads/j1", "acme", 60))
    method, ws, expires = "PUT", q["ws"], q["expires"]
    verifier = signer
    if change == "method":
        method = "GET"
    elif change == "path":
        path = "/v1/uploads/j2"
    elif change == "workspace":
        ws = "globex"
    elif change == "expires":
        expires = str(int(expires) + 1)
    else:
        verifier = UrlSigner("other", clock=Clock())
    with pytest.raises(SignatureInvalid):
        verifier.verify(method, path, ws, expires, q["signature"])


def test_a_genuine_url_past_its_expiry_is_expired_not_invalid():
    clock = Clock()
    signer = UrlSigner("secret", clock=clock)
    path, q = parts(signer.sign("GET", "/v1/downloads/j1/errors.jsonl", "acme", 60))
    clock.now += 61
    with pytest.raises(UrlExpired):
        signer.verify("GET", path, q["ws"], q["expires"], q["signature"])


@pytest.mark.parametrize("expires", [None, "", "abc", "-5", "1" * 40])
def test_missing_or_malformed_signing_fields_are_signature_invalid(expires):
    with pytest.raises(SignatureInvalid):
        UrlSigner("secret").verify("PUT", "/v1/uploads/j1", "acme", expires, "sig")


@pytest.mark.parametrize("headers,expected", [
    ({"authorization": "Bearer abc"}, "abc"),
    ({"authorization": "token abc "}, "abc"),
    ({"x-api-key": " abc"}, "abc"),
    ({"authorization": "Basic abc"}, None),
    ({"authorization": "Bearer"}, None),
    ({}, None),
])
def test_credentials_come_from_bearer_token_or_x_api_key(headers, expected):
    assert presented_credential(headers) == expected


def test_admin_holds_every_scope_and_write_does_not_imply_read():
    assert Identity("w", frozenset({"admin"}), "s").has("imports:read")
    writer = Identity("w", frozenset({"imports:write"}), "s")
    assert writer.has("imports:write") and not writer.has("imports:read")


def test_a_verified_key_is_remembered_for_its_ttl_only():
    from lading.entrypoints.http.auth import VerifiedKeys

    clock = Clock()
    cache = VerifiedKeys(ttl=10, clock=clock)
    identity = Identity("w", frozenset({"imports:read"}), "key:1")
    cache.put("ldg_key", identity)
    assert cache.get("ldg_key") == identity
    assert cache.get("ldg_other") is None
    clock.now += 11
    assert cache.get("ldg_key") is None
