"""The published OpenAPI document is client-ready (issue 16.7, 11.4): clean names, every field
described, the closed list of error codes, real examples, required signed-URL parameters, and
every body a route reads declared with its media type."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from litestar.testing import TestClient

import lading
from lading.domain.errors import DomainError
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.http.error_codes import STATUS_FOR_CODE
from lading.entrypoints.http.openapi_document import component_name
from lading.entrypoints.settings import Settings

# Commands that take no body: everything else that is a POST, PUT or PATCH must declare one.
BODILESS = {"cancelImportJob", "startImportJob", "completeDirectUpload", "triggerConfiguration",
            "experitureStartImportJob", "experitureCancelImportJob", "applyDryRun", "pigmentTrigger",
            "pigmentTriggerUnversioned"}


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    lading_ = bootstrap(Settings(home=tmp_path_factory.mktemp("doc"), rate_limit_per_minute=0))
    try:
        with TestClient(create_app(lading_)) as client:
            yield client.get("/schema/openapi.json").json()
    finally:
        lading_.close()


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                yield path, method, op


def test_component_names_are_class_names_without_module_paths(doc):
    names = list(doc["components"]["schemas"])
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", n) for n in names), names
    assert {"JobStatusEnvelope", "TemplateListEnvelope", "ErrorEnvelope", "VernUploadSlot",
            "SdragentDeleted", "Deleted"} <= set(names)
    assert all(doc["components"]["schemas"][n]["title"] == n for n in names)


@pytest.mark.parametrize(("generated", "published"), [
    ("Envelope_lading.entrypoints.http.schemas.JobStatus_", "JobStatusEnvelope"),
    ("Envelope_list_lading.entrypoints.http.schemas.Template_", "TemplateListEnvelope"),
    ("compat_vern_UploadSlot", "VernUploadSlot"),
    ("schemas_Deleted", "Deleted"),
    ("JobStatus", "JobStatus"),
])
def test_a_generated_name_loses_its_module_path(generated, published):
    assert component_name(generated) == published


def test_every_property_of_every_shape_is_described(doc):
    undescribed = [f"{name}.{prop}" for name, schema in doc["components"]["schemas"].items()
                   for prop, spec in (schema.get("properties") or {}).items()
                   if not spec.get("description")]
    assert undescribed == []


def test_error_code_is_the_closed_list_and_every_refusal_uses_one_of_them(doc):
    code = doc["components"]["schemas"]["ErrorBody"]["properties"]["code"]
    assert set(code["enum"]) == set(STATUS_FOR_CODE)
    for module in pkgutil.walk_packages(lading.__path__, "lading."):
        if ".entrypoints." not in module.name or ".http" in module.name:
            importlib.import_module(module.name)
    refusals, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        refusals.add(cls.code)
        todo.extend(cls.__subclasses__())
    assert refusals <= set(STATUS_FOR_CODE)


def test_error_examples_are_refusals_under_their_own_status(doc):
    seen = 0
    for _path, _method, op in operations(doc):
        for status, response in op["responses"].items():
            for example in response.get("content", {}).get("application/json", {}).get("examples", {}).values():
                value = example["value"]
                if "error" in value and "success" in value:
                    assert value["success"] is False
                    assert STATUS_FOR_CODE[value["error"]["code"]] == int(status)
                    seen += 1
    assert seen > 100


def test_success_examples_are_real_values_not_random_strings(doc):
    status = doc["components"]["schemas"]["JobStatus"]["properties"]
    assert status["state"]["examples"] == ["completed"]
    assert status["jobId"]["examples"][0].count("-") == 4
    assert doc["components"]["schemas"]["ErrorEnvelope"]["properties"]["success"]["const"] is False


def test_signed_urls_require_their_signature(doc):
    signed = [op for path, _m, op in operations(doc) if "/uploads/" in path or "/downloads/" in path]
    signed = [op for op in signed if any(p["name"] == "signature" for p in op.get("parameters", []))]
    assert len(signed) >= 5
    for op in signed:
        params = {p["name"]: p for p in op["parameters"]}
        assert all(params[n]["required"] and params[n]["schema"]["type"] == "string"
                   for n in ("ws", "expires", "signature")), op["operationId"]


def test_every_route_that_reads_a_body_declares_it_with_its_media_type(doc):
    by_id = {op["operationId"]: op for _p, _m, op in operations(doc)}
    for path, method, op in operations(doc):
        if method in ("post", "put", "patch") and op["operationId"] not in BODILESS:
            assert op.get("requestBody", {}).get("content"), (method, path)
    media = {name: set(by_id[name]["requestBody"]["content"]) for name in (
        "uploadFile", "pushToConfiguration", "experitureUploadFile", "vernPutUpload",
        "pigmentPushCsv", "pigmentLegacyApiPush", "sdragentBulkUpload", "createImport")}
    assert media == {
        "uploadFile": {"application/octet-stream"}, "pushToConfiguration": {"application/octet-stream"},
        "experitureUploadFile": {"application/octet-stream"}, "vernPutUpload": {"application/octet-stream"},
        "pigmentPushCsv": {"text/csv"}, "pigmentLegacyApiPush": {"text/csv"},
        "sdragentBulkUpload": {"application/json", "multipart/form-data"},
        "createImport": {"multipart/form-data"},
    }


def test_every_compat_route_is_under_its_apis_tag_only(doc):
    tags = {}
    for path, _method, op in operations(doc):
        if path.startswith("/compat/"):
            tags.setdefault(path.split("/")[2], set()).update(op["tags"])
    assert {api: len(found) for api, found in tags.items()} == {
        "experiture": 1, "userpilot": 1, "pigment": 1, "sdragent": 1, "vern": 1}
    assert len(set().union(*tags.values())) == 5


def test_idempotent_replays_are_declared_beside_the_creation(doc):
    by_id = {op["operationId"]: op for _p, _m, op in operations(doc)}
    for name in ("createImportJob", "createImport", "writeRecords", "createObject",
                 "createImportConfiguration", "experitureCreateImportJob"):
        assert "200" in by_id[name]["responses"], name
