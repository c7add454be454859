"""The Litestar application factory: routes, one exception map, correlation ids, auth, limits."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from lading.entrypoints.bootstrap import Lading
import lading.entrypoints.http.compat as compat
from lading.entrypoints.http.allow import complete_allow_header
from lading.entrypoints.http.auth import (
    EXCLUDE_FROM_AUTH,
    AuthenticationMiddleware,
    Authenticator,
)
from lading.entrypoints.http.console import console_routes, template_config
from lading.entrypoints.http.console.session import SESSION_STORE, session_store
from lading.entrypoints.http.correlation import add_correlation_header
from lading.entrypoints.http.docs import OfflineDocsPlugin
from lading.entrypoints.http.envelope import Envelope, ok
from lading.entrypoints.http.errors import UnsupportedMediaType, error_response
from lading.entrypoints.http.direct_uploads import DirectUploadsController
from lading.entrypoints.http.imports import MULTIPART_SLACK, ImportsController
from lading.entrypoints.http.jobs import ImportJobsController
from lading.entrypoints.http.audiences import AudiencesController
from lading.entrypoints.http.undo import UndoController
from lading.entrypoints.http.lists import ListsController
from lading.entrypoints.http.objects import ObjectsController
from lading.entrypoints.http.openapi_document import PublishedJsonPlugin
from lading.entrypoints.http.operations import (
    JOB_METRICS,
    MetricsController,
    job_metrics_registry,
    prometheus_config,
    readiness,
)
from lading.entrypoints.http.multipart_limits import BoundedMultipartFields
from lading.entrypoints.http.query_values import refuse_repeated_query_values
from lading.entrypoints.http.upload_slots import ConcurrentUploadCap
from lading.entrypoints.http.request import LadingRequest
from lading.entrypoints.http.rate_limit import STORE_NAME, rate_limit_store, workspace_rate_limit
from lading.entrypoints.http.saved_mappings import ImportConfigurationsController, MappingTemplatesController
from lading.entrypoints.http.schemas import Health
from lading.entrypoints.http.services import Services
from lading.entrypoints.http.signed_urls import UrlSigner

JSON_BODY_LIMIT = 64 * 1024 * 1024
_SECURITY = [{"apiKey": []}, {"bearer": []}]


@get("/healthz", operation_id="health", opt={EXCLUDE_FROM_AUTH: True}, tags=["health"],
     security=[{}], summary="Liveness: answers without a key")
async def health(request: Request) -> Envelope[Health]:
    return ok(request, Health(status="ok"))


async def check_request(request: Request) -> None:
    await require_json(request)
    refuse_repeated_query_values(request)


async def require_json(request: Request) -> None:
    """A JSON body must say so: another content type is 415, never guessed at."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    media = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    if media != RequestEncodingType.JSON:
        return
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    content_type = request.content_type[0]
    if has_body and not (content_type == "application/json" or content_type.endswith("+json")):
        raise UnsupportedMediaType(f"send the body as application/json, not '{content_type or 'nothing'}'")


def create_app(lading: Lading, *, debug: bool = False) -> Litestar:
    """The API over a wired Lading; whoever made `lading` closes it after the app stops."""
    settings = lading.settings
    services = Services(
        lading=lading,
        signer=UrlSigner(lading.secret),
        library=lading.library,
        public_url=settings.public_url,
    )
    authenticator = Authenticator(lading.keys, settings.jwt_key, settings.jwt_algorithm)
    middleware: list[Any] = [prometheus_config().middleware, BoundedMultipartFields, DefineMiddleware(
        AuthenticationMiddleware,
        authenticator=authenticator,
        exclude=["^/schema", *compat.NATIVE_AUTH_EXCLUDES],
    ), compat.authentication(authenticator), DefineMiddleware(
        ConcurrentUploadCap, streaming=Counter(), json_body_limit=JSON_BODY_LIMIT,
        max_per_caller=settings.max_concurrent_uploads_per_key)]
    middleware.append(workspace_rate_limit(lambda ws: lading.workspaces.limits(ws).rate_limit))
    one_shot = Router(path="/", route_handlers=[ImportsController],
                      request_max_body_size=settings.max_file_size + MULTIPART_SLACK)
    return Litestar(
        route_handlers=[health, readiness, MetricsController, ImportJobsController, UndoController, DirectUploadsController, one_shot, ObjectsController,
                        MappingTemplatesController, ImportConfigurationsController,
                        ListsController, AudiencesController, _transfers(), *_results(), *console_routes(services, authenticator),
                        *compat.routers(settings.max_file_size + MULTIPART_SLACK)],
        template_config=template_config(),
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False)},
        middleware=middleware,
        stores={STORE_NAME: rate_limit_store(settings.redis_url),
                SESSION_STORE: session_store(settings.redis_url, settings.home)},
        state=State({JOB_METRICS: job_metrics_registry(lading.jobs)}),
        exception_handlers={Exception: compat.error_handler(error_response)},
        before_send=[add_correlation_header, complete_allow_header],
        before_request=check_request,
        request_class=LadingRequest,
        request_max_body_size=JSON_BODY_LIMIT,
        openapi_config=OpenAPIConfig(
            title="Lading",
            version="1",
            description="Bulk import jobs: validate every row, upsert the valid ones, report exactly.",
            path="/schema",
            render_plugins=[OfflineDocsPlugin(path="/"), PublishedJsonPlugin(settings.max_file_size)],
            security=_SECURITY,
            components=Components(security_schemes={
                "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header",
                                         description="An API key from `lading keys create`"),
                "bearer": SecurityScheme(type="http", scheme="bearer",
                                         description="`Authorization: Bearer KEY` (or `Token KEY`),"
                                                     " or a JWT signed with LADING_JWT_KEY"),
                **compat.SECURITY_SCHEMES,
            }),
            use_handler_docstrings=False,
        ),
        # Logging is configured once per process by the command that runs (logging_setup), not
        # by each app: Litestar's default would install its own handler on the root logger.
        logging_config=None,
        debug=debug,
    )


def _transfers():
    from lading.entrypoints.http.transfers import TransfersController

    return TransfersController


def _results():
    from lading.entrypoints.http.results import JobResultsController, ResultsDownloadController

    return JobResultsController, ResultsDownloadController
