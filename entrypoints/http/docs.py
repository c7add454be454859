"""The docs page at /schema: a small self-contained page that renders /schema/openapi.json.

Litestar's default pages load their JavaScript from a CDN, which an offline installation cannot
reach; this one ships in the package and needs nothing from outside (ADR 0033).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

_PAGE = (Path(__file__).with_name("docs.html")).read_bytes()


class OfflineDocsPlugin(OpenAPIRenderPlugin):
    def __init__(self, path: str = "/") -> None:
        super().__init__(path=path)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return _PAGE
