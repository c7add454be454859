"""The published OpenAPI document: Litestar's generated one, finished for client generators.

Litestar names a generic component after its Python path (`Envelope_lading.entrypoints.http.
schemas.JobStatus_`) and leaves fields undescribed. This module is the one place that turns the
generated document into the published one (ADR 0105): clean component names, every property's
description and example from the glossary (api_glossary.py), request bodies exactly as msgspec
decodes them, and the signed URLs' query parameters required.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from lading.entrypoints.http.api_glossary import DESCRIPTIONS, EXAMPLES
from lading.entrypoints.http.signed_urls import SIGNED_QUERY

_ENVELOPE = re.compile(r"^Envelope_(list_)?[\w.]*?([A-Za-z0-9]+)_$")
_REF = "#/components/schemas/"


def component_name(generated: str) -> str:
    """The published name of a generated component name.

    `Envelope_<path>.JobStatus_` → `JobStatusEnvelope`, `Envelope_list_<path>.Template_` →
    `TemplateListEnvelope`; a name Litestar prefixed with its module to tell two apart
    (`compat_vern_UploadSlot`, `schemas_Deleted`) → the compat API's name + the class
    (`VernUploadSlot`), or the class alone for the native one.
    """
    match = _ENVELOPE.match(generated)
    if match:
        return f"{match.group(2)}{'List' if match.group(1) else ''}Envelope"
    parts = generated.split("_")
    if len(parts) > 1 and all(p.isidentifier() for p in parts):
        owner = parts[parts.index("compat") + 1].capitalize() if "compat" in parts[:-1] else ""
        return owner + parts[-1]
    return generated


def finish(generated: dict[str, Any], max_file_size: int | None = None) -> dict[str, Any]:
    """The published document made from Litestar's generated one (which is left unchanged);
    `max_file_size` is this server's limit, stated as fileSize's maximum."""
    # Plain JSON values from here on: the generated examples may hold Structs.
    doc = msgspec.json.decode(msgspec.json.encode(generated))
    schemas = doc.get("components", {}).get("schemas", {})
    names = {old: component_name(old) for old in schemas}
    if len(set(names.values())) != len(names):
        raise ValueError(f"two components would share a name: {sorted(names.values())}")
    _exact_request_shapes(doc)
    doc["components"]["schemas"] = {names[old]: schema for old, schema in schemas.items()}
    doc = _rename_references(doc, names)
    size = doc["components"]["schemas"].get("CreateJob", {}).get("properties", {}).get("fileSize")
    if size is not None and max_file_size is not None:
        size["maximum"] = max_file_size  # more is 413 LIMIT.PAYLOAD_TOO_LARGE
    for name, schema in doc["components"]["schemas"].items():
        schema["title"] = name  # generators name classes by title: Litestar's repeat (`Deleted`)
        _describe(name, schema)
    for path_item in doc.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                _require_signature(operation)
                _optional_body(operation)
    return doc


def _optional_body(operation: dict[str, Any]) -> None:
    """A body the handler takes as `Struct | None = None` may be left out: Litestar still marks
    it required (as one of the Struct or null), so generated clients would demand one."""
    body = operation.get("requestBody")
    media = (body or {}).get("content", {}).get("application/json")
    choices = (media or {}).get("schema", {}).get("oneOf", [])
    if len(choices) == 2 and {"type": "null"} in choices:
        media["schema"] = next(c for c in choices if c != {"type": "null"})
        body["required"] = False


def _exact_request_shapes(doc: dict[str, Any]) -> None:
    """Each JSON request body's shape as msgspec, which decodes it, describes it.

    Litestar drops what msgspec enforces: constraints on list items and on optional values
    (`labels[0]` min length, `total_rows >= 0`), and `forbid_unknown_fields`. A client (or a
    fuzzer) reading Litestar's shapes sends bodies the server then refuses; msgspec's own
    schema is exactly what it accepts.
    """
    schemas = doc["components"]["schemas"]
    structs = _our_structs()
    by_name = {cls.__name__: cls for cls in structs.values()}
    wanted: dict[str, type] = {}
    for key in _request_body_components(doc):
        schema = schemas[key]
        cls = structs.get((schema.get("title", ""), frozenset(schema.get("properties", {}))))
        if cls is not None:
            wanted[key] = cls
    for key, cls in wanted.items():
        try:
            (_,), exact = msgspec.json.schema_components([cls], ref_template=_REF + "{name}")
        except TypeError:  # a multipart form (an UploadFile field): Litestar's shape, closed
            if cls.__struct_config__.forbid_unknown_fields:
                schemas[key]["additionalProperties"] = False
            continue
        for name, shape in exact.items():
            target = key if name == cls.__name__ else name
            if target in schemas:
                schemas[target] = _items_everywhere(shape)
                nested = cls if target == key else by_name.get(name)
                _add_rules(schemas[target], getattr(nested, "schema_rules", None) or {})


def _items_everywhere(schema: Any) -> Any:
    """msgspec writes `list[Any]` as a bare array; generators need its `items` (any: `{}`)."""
    if isinstance(schema, dict):
        fixed = {k: _items_everywhere(v) for k, v in schema.items()}
        if fixed.get("type") == "array" and "items" not in fixed:
            fixed["items"] = {}
        return fixed
    if isinstance(schema, list):
        return [_items_everywhere(v) for v in schema]
    return schema


def _add_rules(shape: dict[str, Any], rules: dict[str, Any]) -> None:
    """A Struct's `schema_rules` (what its handler checks across fields) joined to its shape."""
    for name, value in rules.items():
        if name == "properties":
            for prop, extra in value.items():
                shape["properties"][prop] = {**shape["properties"][prop], **extra}
        else:
            shape[name] = value


def _request_body_components(doc: dict[str, Any]) -> set[str]:
    found = set()
    for path_item in doc.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                schema = media.get("schema", {})
                for ref in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
                    if ref.get("$ref", "").startswith(_REF):
                        found.add(ref["$ref"][len(_REF):])
    return found


def _our_structs() -> dict[tuple[str, frozenset[str]], type]:
    """Our Structs by (class name, wire field names), as Litestar titles their components."""
    found, todo = {}, list(msgspec.Struct.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("lading."):
            found[(cls.__name__, frozenset(cls.__struct_encode_fields__))] = cls
    return found


def _rename_references(doc: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    text = msgspec.json.encode(doc).decode()
    for old, new in names.items():
        text = text.replace(f'"{_REF}{old}"', f'"{_REF}{new}"')
    return msgspec.json.decode(text)


def _describe(component: str, schema: dict[str, Any]) -> None:
    for prop, spec in (schema.get("properties") or {}).items():
        key = f"{component}.{prop}"
        description = DESCRIPTIONS.get(key) or DESCRIPTIONS.get(prop)
        if description and "description" not in spec:
            if "$ref" in spec:  # a reference takes no siblings in generators: wrap it
                spec["allOf"] = [{"$ref": spec.pop("$ref")}]
            spec["description"] = description
        for example_key in (key, prop):
            if example_key in EXAMPLES:
                spec["examples"] = [EXAMPLES[example_key]]
                break


def _require_signature(operation: dict[str, Any]) -> None:
    # The handler answers a missing one with 403 UPLOAD.SIGNATURE_INVALID, but a client must send
    # all three: the document says so.
    names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
    if set(SIGNED_QUERY) <= names:
        for parameter in operation["parameters"]:
            if parameter.get("name") in SIGNED_QUERY:
                parameter["required"] = True
                parameter["schema"] = {"type": "string", "description": parameter.get("description", "")}


class PublishedJsonPlugin(JsonRenderPlugin):
    """Serves /schema/openapi.json as the finished document (built once, on first request)."""

    def __init__(self, max_file_size: int | None = None) -> None:
        super().__init__()
        self._max_file_size = max_file_size
        self._published: bytes | None = None

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        if self._published is None:
            self._published = super().render(request, finish(openapi_schema, self._max_file_size))
        return self._published
