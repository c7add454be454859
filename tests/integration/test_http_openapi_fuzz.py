"""The hostile-input suite (issue 9): schemathesis against the app's own OpenAPI document, in
process, with every check it has — no 5xx, responses and their status codes, content types and
headers as documented, `OPTIONS`/405 `Allow` headers, schema-valid requests accepted and
invalid ones refused, credentials required where declared — first one operation at a time,
then its stateful phase, which chains operations through the links it infers.

The app is built at import time because schemathesis reads the schema when pytest collects
(its lazy fixture loader does not work with pytest 9); the module fixture cleans up after.
Examples per operation are few so the suite stays fast; each run draws new ones.
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

_HOME = Path(tempfile.mkdtemp(prefix="lading-fuzz-"))
_LADING = bootstrap(Settings(home=_HOME, rate_limit_per_minute=0, max_file_size=1 << 20,
                             sources_dir=_HOME))
_LADING.objects.catalog.add("fuzz", "profiles", TableSchema.from_dict(profiles_object()["schema"]))
_KEY = _LADING.keys.create("fuzz", frozenset({"admin"}))
_LADING.jobs.create_job("fuzz", "profiles", "a.csv", 10)
APP = create_app(_LADING)

# Schema-valid requests these operations refuse by design, with the status they say why with:
# what no JSON Schema can say. Every other check still runs on them.
_CURSOR = ((400,), "an opaque cursor is ours or not")
_IDEMPOTENCY = ((400,), "the Idempotency-Key header and idempotencyKey must agree")
_SOURCE_URL = ((400,), "a configuration without a sourceUrl has nothing to trigger")
_FIELDS = ((422,), "a mapping must name the object's fields")
SEMANTIC = {
    "listImportJobs": _CURSOR, "listLists": _CURSOR, "listListMembers": _CURSOR,
    "listRecords": _CURSOR, "listAudiences": _CURSOR, "listAudienceMembers": _CURSOR,
    "experitureListImportJobs": _CURSOR,
    "getImportJob": ((400,), "asOf must be an instant the job existed at, and neither goes with"
                             " includeDetailedReport"),
    "createObject": ((400,), "a Table Schema must make sense as one"),
    "createImport": ((400,), "fieldMap and reviewPolicy are JSON in form fields"),
    "createImportConfiguration": ((400, 422), "a templateId or mapping must fit objectName"),
    "vernExport": ((400,), "sheet_id names the company's one sheet"),
    "createImportJob": _IDEMPOTENCY, "experitureCreateImportJob": _IDEMPOTENCY,
    "triggerConfiguration": _SOURCE_URL, "pigmentTrigger": _SOURCE_URL,
    "pigmentTriggerUnversioned": _SOURCE_URL,
    "createMappingTemplate": _FIELDS,
}
_ACCEPTED = '"2xx", "3xx", "401", "403", "404", "409", "429", "5xx"'
# A size over the declared maximum is refused with the limit's own status, 413.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
""" + "".join(f"""
[[operations]]
include-operation-id = "{name}"
checks.positive_data_acceptance.expected-statuses = [{_ACCEPTED}, {", ".join(f'"{s}"' for s in statuses)}]
""" for name, (statuses, _why) in SEMANTIC.items())

schema = schemathesis.openapi.from_asgi("/schema/openapi.json", APP,
                                        config=schemathesis.config.SchemathesisConfig.from_str(CONFIG))

# How each security scheme of the document carries the key.
_CREDENTIALS = {
    "apiKey": {"X-API-Key": _KEY},
    "bearer": {"Authorization": f"Bearer {_KEY}"},
    "tokenHeader": {"Authorization": f"Token {_KEY}"},
    "pigmentApiKey": {"X-Pigment-Api-Key": _KEY},
}


def credentials(case) -> dict[str, str]:
    """The key in the first form the operation's security accepts (none on a signed URL)."""
    security = case.operation.definition.raw.get("security", schema.raw_schema.get("security", []))
    for requirement in security:
        if requirement:
            return dict(_CREDENTIALS[next(iter(requirement))])
    return {}


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _LADING.close()
    shutil.rmtree(_HOME, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_operation_passes_every_check(case):
    case.call_and_validate(headers=credentials(case))


class Workflows(schema.as_state_machine()):
    def get_call_kwargs(self, case):
        return {"headers": credentials(case)}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, additional_checks=additional_checks,
                               headers=credentials(case))


TestStatefulWorkflows = Workflows.TestCase
TestStatefulWorkflows.settings = settings(max_examples=20, stateful_step_count=6, deadline=None,
                                          suppress_health_check=list(HealthCheck))
