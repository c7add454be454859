"""Schemathesis against the app's own OpenAPI document, in process: whatever it generates
(valid or not), no response is a 5xx and every response matches the documented shapes.

The app is built at import time because schemathesis reads the schema when pytest collects
(its lazy fixture loader does not work with pytest 9); the module fixture cleans up after.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import Settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

_HOME = Path(tempfile.mkdtemp(prefix="lading-fuzz-"))
_LADING = bootstrap(Settings(home=_HOME, rate_limit_per_minute=0, max_file_size=1 << 20))
_LADING.objects.catalog.add("fuzz", "profiles", TableSchema.from_dict(profiles_object()["schema"]))
_KEY = _LADING.keys.create("fuzz", frozenset({"admin"}))
_LADING.jobs.create_job("fuzz", "profiles", "a.csv", 10)
APP = create_app(_LADING)

schema = schemathesis.openapi.from_asgi("/schema/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _LADING.close()
    shutil.rmtree(_HOME, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_request_gets_a_5xx_and_every_response_matches_the_schema(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_KEY}", "X-API-Key": _KEY},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance,
                content_type_conformance],
    )
