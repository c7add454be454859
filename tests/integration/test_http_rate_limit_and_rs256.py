"""In-process: the per-key rate limit (429 LIMIT.RATE with Retry-After) and RS256 tokens
checked against a PEM public key file."""

from __future__ import annotations

import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.settings import Settings
from litestar.testing import TestClient

logging.getLogger("httpx").setLevel(logging.WARNING)


@pytest.fixture
def rsa_keys(tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path / "jwt-public.pem"
    path.write_bytes(public_pem)
    return private, path


def make_app(tmp_path, **settings):
    lading = bootstrap(Settings(home=tmp_path / "home", **settings),
                       eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return lading, create_app(lading)


def test_each_key_gets_its_own_rate_and_the_excess_is_429_with_retry_after(tmp_path):
    lading, app = make_app(tmp_path, rate_limit_per_minute=5)
    first = lading.keys.create("acme", frozenset({"imports:read"}))
    second = lading.keys.create("acme", frozenset({"imports:read"}))
    with TestClient(app) as client:
        statuses = [client.get("/v1/import-jobs", headers={"X-API-Key": first}).status_code
                    for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        limited = client.get("/v1/import-jobs", headers={"X-API-Key": first})
        assert limited.json()["error"]["code"] == "LIMIT.RATE"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60, "the minute window's reset"
        assert client.get("/v1/import-jobs", headers={"X-API-Key": second}).status_code == 200
        assert client.get("/healthz").status_code == 200, "unauthenticated routes are not limited"
    lading.close()


def test_an_rs256_token_is_verified_with_the_public_key_file(tmp_path, rsa_keys):
    private, public_path = rsa_keys
    lading, app = make_app(tmp_path, jwt_key=str(public_path), jwt_algorithm="RS256",
                           rate_limit_per_minute=0)
    good = jwt.encode({"workspace": "acme", "scopes": ["imports:read"], "exp": int(time.time()) + 60},
                      private, algorithm="RS256")
    forged = jwt.encode({"workspace": "acme", "scopes": ["admin"], "exp": int(time.time()) + 60},
                        "guessing-the-hmac-secret-is-not-enough-here", algorithm="HS256")
    with TestClient(app) as client:
        assert client.get("/v1/import-jobs", headers={"Authorization": f"Bearer {good}"}).status_code == 200
        refused = client.get("/v1/import-jobs", headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "AUTH.UNAUTHORIZED"
    lading.close()


def test_public_url_is_used_for_signed_urls(tmp_path):
    from lading.domain.table_schema import TableSchema
    from lading.entrypoints.samples import profiles_object

    lading, app = make_app(tmp_path, public_url="https://imports.example.test/", rate_limit_per_minute=0)
    lading.objects.catalog.add("acme", "profiles", TableSchema.from_dict(profiles_object()["schema"]))
    key = lading.keys.create("acme", frozenset({"imports:write"}))
    with TestClient(app) as client:
        slot = client.post("/v1/import-jobs", headers={"X-API-Key": key},
                           json={"objectName": "profiles", "fileName": "a.csv", "fileSize": 1}).json()["data"]
    assert slot["uploadUrl"].startswith("https://imports.example.test/v1/uploads/")
    lading.close()
