"""OpenAPI for handlers that stream their request body themselves (uploads, pushes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

# What a file upload is declared as (the upload slot's headers say so too). Any label is
# accepted, since the format is sniffed from the bytes; one declared type keeps generated
# clients simple (openapi-python-client mis-generates a body of several types).
FILE_MEDIA_TYPE = "application/octet-stream"


def raw_body(media_types: str | Sequence[str], description: str) -> type[Operation]:
    """An OpenAPI operation whose request body is raw bytes of `media_types` (a streamed file),
    which a handler reads itself and so cannot declare as a `data` parameter."""
    kinds = (media_types,) if isinstance(media_types, str) else tuple(media_types)

    @dataclass
    class RawBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={kind: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format="binary"))
                         for kind in kinds},
                description=description, required=True)

    return RawBodyOperation
