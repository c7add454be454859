"""OpenAPI for handlers that read their request body themselves (uploads, pushes, bodies of
several forms), and so cannot declare it as a `data` parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

# What a file upload is declared as (the upload slot's headers say so too). Any label is
# accepted, since the format is sniffed from the bytes; one declared type keeps generated
# clients simple (openapi-python-client mis-generates a body of several types).
FILE_MEDIA_TYPE = "application/octet-stream"
BINARY = Schema(type=OpenAPIType.STRING, format="binary")


def declared_body(content: Mapping[str, Schema], description: str) -> type[Operation]:
    """An OpenAPI operation whose required request body has these media types and schemas."""

    @dataclass
    class DeclaredBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={kind: OpenAPIMediaType(schema=schema) for kind, schema in content.items()},
                description=description, required=True)

    return DeclaredBodyOperation


def raw_body(media_type: str, description: str) -> type[Operation]:
    """An operation whose request body is raw bytes of `media_type` (a streamed file)."""
    return declared_body({media_type: BINARY}, description)
