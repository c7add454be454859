"""What every compatibility API shares: its credentials, its error body, its URLs, its status words.

A compat API is described once by a `CompatApi`: the prefix a client's base URL becomes, the
credential forms it accepts, how its errors look, and the controllers that translate its
requests into one application call each (ADR 0007). Authentication, scopes and rate limits are
the native ones (same keys, same JWTs, same buckets); only the words differ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.openapi.spec import SecurityScheme

from lading.domain.lifecycle import JobState
from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH, READ, WRITE, Authenticator
from lading.entrypoints.http.correlation import correlation_id
from lading.entrypoints.http.errors import Unauthorized, classify, error_headers
from lading.entrypoints.http.services import Services

log = logging.getLogger("lading.http")

PREFIX = "/compat"

# Credential forms, as a client sends them.
BEARER = "Authorization: Bearer"
TOKEN = "Authorization: Token"
X_API_KEY = "X-API-Key"  # HTTP header names are case-insensitive: this is also `x-api-key`
X_PIGMENT_API_KEY = "X-Pigment-Api-Key"
_HEADER_FORMS = {X_API_KEY: "x-api-key", X_PIGMENT_API_KEY: "x-pigment-api-key"}
_AUTHORIZATION_FORMS = {BEARER: "bearer", TOKEN: "token"}

# OpenAPI security schemes the compat APIs name besides the native `bearer` and `apiKey`.
SECURITY_SCHEMES = {
    "tokenHeader": SecurityScheme(type="apiKey", name="Authorization", security_scheme_in="header",
                                  description="`Authorization: Token KEY` (Userpilot)"),
    "pigmentApiKey": SecurityScheme(type="apiKey", name="X-Pigment-Api-Key",
                                    security_scheme_in="header",
                                    description="`X-Pigment-Api-Key: KEY` (Pigment's legacy header)"),
}

# Experiture's JWT scopes, read as Lading's.
CDP_SCOPES: Mapping[str, str] = {"cdp:imports:write": WRITE, "cdp:imports:read": READ}


def read_credential(headers: Any, accepted: Sequence[str]) -> str | None:
    """The credential in the first accepted form the request carries, or None."""
    authorization = (headers.get("authorization") or "").strip()
    scheme, _, value = authorization.partition(" ")
    for form in accepted:
        if form in _HEADER_FORMS:
            found = (headers.get(_HEADER_FORMS[form]) or "").strip()
            if found:
                return found
        elif _AUTHORIZATION_FORMS.get(form) == scheme.lower() and value.strip():
            return value.strip()
    return None


@dataclass(frozen=True)
class Failure:
    """A refusal, classified as the native API would (status, code), to be worded by an API."""

    status: int
    code: str  # the native code, e.g. NOT_FOUND, LIMIT.CONCURRENCY
    message: str
    details: Any
    correlation_id: str


# An API's error body: given the failure, the response body (a dict) and its media type.
ErrorBody = Callable[[Failure], tuple[Any, str]]


@dataclass(frozen=True)
class StatusWords:
    """One API's table from Lading's state (and, where it matters, stage) to its status word.

    Every Lading state a client can see must have a word, so a new state cannot slip through
    as a KeyError; `by_stage` refines a state by its stage (`None` when the state has none).
    """

    by_state: Mapping[str, str]
    by_stage: Mapping[tuple[str, str | None], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        visible = {s.value for s in JobState} - {JobState.DELETED.value}
        missing = sorted((visible | {"reverted"}) - set(self.by_state))
        if missing:
            raise ValueError(f"no status word for state(s) {', '.join(missing)}")

    def word(self, state: str, stage: str | None = None) -> str:
        return self.by_stage.get((state, stage)) or self.by_state[state]

    def states(self, word: str) -> tuple[str, ...]:
        """The Lading states that read as `word` (by state alone: for list filters)."""
        return tuple(state for state, said in self.by_state.items() if said == word)


@dataclass(frozen=True)
class CompatApi:
    name: str  # the OpenAPI tag
    prefix: str  # under /compat, e.g. /compat/experiture
    credentials: Sequence[str]  # accepted forms, in order of preference
    error_body: ErrorBody
    controllers: Sequence[type]
    scope_aliases: Mapping[str, str] = field(default_factory=dict)
    unauthorized_message: str = "a valid API key is required"
    security: Sequence[dict[str, list[str]]] = ({"bearer": []},)  # OpenAPI requirements

    def url(self, services: Services, request: Request, path: str) -> str:
        """An absolute URL under this API's prefix (LADING_PUBLIC_URL, else our own address)."""
        return services.absolute(request, self.prefix + path)

    def owns(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


class CompatAuthentication(AbstractAuthenticationMiddleware):
    """The native authentication, in the credential forms and scope words of the API a path
    belongs to."""

    def __init__(self, app: Any, authenticator: Authenticator, apis: Sequence[CompatApi],
                 **kwargs: Any) -> None:
        super().__init__(app, exclude_from_auth_key=EXCLUDE_FROM_AUTH, **kwargs)
        self.authenticator = authenticator
        self.apis = apis

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not str(scope.get("path", "")).startswith(PREFIX + "/"):
            await self.app(scope, receive, send)  # native paths authenticate natively
            return
        await super().__call__(scope, receive, send)

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        api = next((a for a in self.apis if a.owns(connection.scope["path"])), None)
        if api is None:  # a /compat path of no API: not found, in no API's words
            raise NotFoundException(f"no compatibility API at {connection.scope['path']}")
        credential = read_credential(connection.headers, api.credentials)
        if not credential:
            raise Unauthorized(api.unauthorized_message)
        identity = self.authenticator.cache.get(credential)
        if identity is None:
            identity = await anyio.to_thread.run_sync(
                self.authenticator.identify, credential, dict(api.scope_aliases))
        return AuthenticationResult(user=identity, auth=credential)


def failure_of(request: Request, exc: Exception) -> Failure:
    status, code, message, details = classify(exc)
    return Failure(status, code, message, details, correlation_id(request.scope))


def error_response(api: CompatApi, request: Request, exc: Exception) -> Response[Any]:
    """The API's own error body for any exception, with Retry-After and the like kept."""
    failure = failure_of(request, exc)
    if failure.status >= 500:
        log.error("unhandled error (correlation id %s)", failure.correlation_id, exc_info=exc)
    body, media_type = api.error_body(failure)
    headers = error_headers(exc, failure.status)
    return Response(body, status_code=failure.status, headers=headers, media_type=media_type)


def text(value: Any) -> str:
    """A value as a string-typed API shows it: `""` while unknown."""
    return "" if value is None else str(value)


def versioned_ids(name: str) -> Callable[..., str]:
    """Operation ids for a handler served at a /v1/ path and the same path without it."""

    def operation_id(_handler: Any, _method: Any, components: list[Any]) -> str:
        return name if "v1" in components else f"{name}Unversioned"

    return operation_id
