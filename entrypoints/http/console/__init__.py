"""The web console (SPEC §8) at /console: server-rendered pages over the API's own services.

One Router carries everything the console needs and the JSON API must not have: the session
cookie, CSRF checks, a strict Content-Security-Policy and HTML error pages. The API's key
middleware skips these routes; the console's session stands in for the key (ADR 0039).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH, Authenticator
from lading.entrypoints.http.console.api import ConsoleApiController
from lading.entrypoints.http.console.pages import ConsolePagesController
from lading.entrypoints.http.console.session import (
    SignInRequired,
    provide_identity,
    provide_writer,
    session_config,
)
from lading.entrypoints.http.console.signing import SignInController
from lading.entrypoints.http.console.views import register_filters
from lading.entrypoints.http.errors import error_response
from lading.entrypoints.http.services import Services

HERE = Path(__file__).parent
CSRF_COOKIE = "lading_csrf"
CSRF_HEADER = "x-csrftoken"


def content_security_policy(public_url: str | None) -> str:
    """No inline script or style, nothing from another origin; uploads may go to the public URL."""
    connect = "'self'"
    if public_url:
        parts = urlparse(public_url)
        if parts.scheme and parts.netloc:
            connect += f" {parts.scheme}://{parts.netloc}"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {connect}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def template_config() -> TemplateConfig:
    """Jinja2 over the package's templates, every `{{ value }}` escaped (ADR 0040)."""
    environment = Environment(loader=FileSystemLoader(HERE / "templates"),
                              autoescape=select_autoescape(default=True, default_for_string=True),
                              trim_blocks=True, lstrip_blocks=True)
    register_filters(environment)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/console/api/")


def _error_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired):
        if _is_api(request):
            return error_response(request, exc)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect("/console/sign-in", query_params={"next": target}, status_code=303)
    envelope = error_response(request, exc)
    if _is_api(request):
        return envelope
    error = envelope.content.error
    return Template(template_name="error.html", status_code=envelope.status_code,
                    context={"status": envelope.status_code, "code": error.code,
                             "message": error.message, "identity": None})


def console_routes(services: Services, authenticator: Authenticator) -> list[Router]:
    """The /console pages (with their session, CSRF and security headers) and their assets,
    which need neither a session nor a CSRF token."""
    public_url = services.public_url
    secure = bool(public_url and public_url.startswith("https://"))
    csrf = CSRFConfig(secret=services.lading.secret, cookie_name=CSRF_COOKIE, cookie_path="/console",
                      cookie_httponly=True, cookie_samesite="strict", cookie_secure=secure,
                      header_name=CSRF_HEADER)
    static = create_static_files_router(path="/console/static", directories=[HERE / "static"],
                                        name="console-static", include_in_schema=False,
                                        opt={EXCLUDE_FROM_AUTH: True})
    pages = Router(
        path="/console",
        route_handlers=[SignInController, ConsolePagesController, ConsoleApiController],
        opt={EXCLUDE_FROM_AUTH: True},
        include_in_schema=False,
        middleware=[session_config(secure).middleware,
                    DefineMiddleware(CSRFMiddleware, config=csrf)],
        dependencies={"identity": Provide(provide_identity(authenticator)),
                      "writer": Provide(provide_writer(authenticator)),
                      "authenticator": Provide(lambda: authenticator, use_cache=True,
                                               sync_to_thread=False)},
        exception_handlers={Exception: _error_page},
        response_headers=[
            ResponseHeader(name="Content-Security-Policy", value=content_security_policy(public_url)),
            ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
            ResponseHeader(name="Referrer-Policy", value="no-referrer"),
            ResponseHeader(name="X-Frame-Options", value="DENY"),
            ResponseHeader(name="Cache-Control", value="no-store"),
        ],
    )
    return [pages, static]
