"""The docs page at /schema: Swagger UI over /schema/openapi.json, with "try it", offline.

Litestar's default pages load their JavaScript from a CDN, which an offline installation cannot
reach; Swagger UI's files come from the swagger-ui-bundle-v2 package instead and are served from
this server (ADR 0106), with the page and its start-up script shipped in this package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

_HERE = Path(__file__).parent
_PAGE = (_HERE / "docs.html").read_bytes()
# The only files the page loads: Swagger UI's bundle and style, and our start-up script.
ASSETS = {
    "swagger-ui-bundle.js": (Path(str(swagger_ui_path)) / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (Path(str(swagger_ui_path)) / "swagger-ui.css", "text/css"),
    "docs.js": (_HERE / "docs.js", "text/javascript"),
}


@get("/assets/{name:str}", sync_to_thread=False, include_in_schema=False,
     cache_control=None)
def docs_asset(name: FromPath[str]) -> File:
    if name not in ASSETS:
        raise NotFoundException(f"no docs asset {name}")
    path, media_type = ASSETS[name]
    return File(path=path, media_type=media_type, content_disposition_type="inline")


class OfflineDocsPlugin(OpenAPIRenderPlugin):
    def __init__(self, path: str = "/") -> None:
        super().__init__(path=path)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return _PAGE

    def receive_router(self, router: Router) -> None:
        router.register(docs_asset)
