"""Every compatibility API answers a rate-limited call in its own error body with Retry-After,
and echoes X-Correlation-Id, like the native API (SPEC §9: "held to the same rules")."""

from __future__ import annotations

import logging
import uuid

import pytest
from litestar.testing import TestClient

from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import Settings

logging.getLogger("httpx").setLevel(logging.WARNING)
MISSING = uuid.uuid4()


def _experiture(body: dict) -> bool:
    return body["success"] is False and body["error"]["code"] == "CDP_ETL.LIMIT.RATE"


def _userpilot(body: dict) -> bool:
    [item] = body["errors"]
    return (item["error"], item["error_code"]) == ("Too Many Requests", "LIMIT.RATE")


def _sdragent(body: dict) -> bool:
    return set(body) == {"detail"} and bool(body["detail"])


def _vern(body: dict) -> bool:
    return body == {"error": "Too many requests"}


def _pigment(body: dict) -> bool:
    return body["status"] == 429 and set(body) == {"type", "title", "status", "detail"}


APIS = {
    "experiture": ("/compat/experiture/public/v1/import-jobs", "Authorization", "Bearer {}", _experiture),
    "userpilot": ("/compat/userpilot/{config}/v1/background_jobs/" + str(MISSING), "Authorization",
                  "Token {}", _userpilot),
    "sdragent": ("/compat/sdragent/{config}/imports/", "X-API-Key", "{}", _sdragent),
    "vern": ("/compat/vern/api/v1/companies/{config}/imports/" + str(MISSING), "x-api-key", "{}", _vern),
    "pigment": (f"/compat/pigment/api/v1/import/{MISSING}/status", "Authorization", "Bearer {}", _pigment),
}


@pytest.fixture(scope="module")
def lading(tmp_path_factory):
    app = bootstrap(Settings(home=tmp_path_factory.mktemp("limits"), rate_limit_per_minute=2),
                    eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.objects.add_object("acme", "profiles", profiles_object()["schema"])
    yield app
    app.close()


@pytest.mark.parametrize("name", sorted(APIS))
def test_a_rate_limited_call_is_429_in_the_apis_own_body_with_retry_after(lading, name):
    path, header, form, said_so = APIS[name]
    key = lading.keys.create("acme", frozenset({"imports:read", "imports:write"}))
    config = lading.library.save_configuration("acme", "limits", "profiles", {}).id
    with TestClient(create_app(lading)) as client:
        url = path.format(config=config)
        headers = {header: form.format(key), "X-Correlation-Id": f"corr-{name}"}
        for _ in range(2):
            answered = client.get(url, headers=headers)
            assert answered.status_code < 429 and answered.headers["x-correlation-id"] == f"corr-{name}"
        limited = client.get(url, headers=headers)
        assert limited.status_code == 429
        assert said_so(limited.json()), limited.text
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.headers["x-correlation-id"] == f"corr-{name}"
