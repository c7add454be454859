"""Who is calling: an API key (hashed in the key store) or a JWT signed with LADING_JWT_KEY.

Credentials come as `Authorization: Bearer KEY`, `Authorization: Token KEY` or `X-API-Key: KEY`.
A Bearer value shaped like a JWT (three dot-separated parts) is checked as a token when a JWT
key is configured; everything else is looked up in the key store. Scopes are checked per route
by `requires(scope)`; `admin` holds every scope.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import jwt
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from lading.application.ports import ApiKeyStore
from lading.domain.api_keys import SCOPES
from lading.domain.workspace_names import check_workspace_name
from lading.entrypoints.http.errors import Forbidden, Unauthorized

ADMIN = "admin"
READ = "imports:read"
WRITE = "imports:write"
EXCLUDE_FROM_AUTH = "exclude_from_auth"  # route opt key: no credentials needed


@dataclass(frozen=True)
class Identity:
    workspace: str
    scopes: frozenset[str]
    subject: str  # the key id, or the token's `sub`: what rate limits count against
    # Who the caller is to a person: the key's public part (`ldg_<key id>`) or the JWT's `sub`.
    public_id: str = ""

    def has(self, scope: str) -> bool:
        return scope in self.scopes or ADMIN in self.scopes


def presented_credential(headers: Any) -> str | None:
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    authorization = headers.get("authorization") or ""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


class VerifiedKeys:
    """Keys recently verified, so a polling client costs no key-store read per request.

    Only successes are kept, for `ttl` seconds: a revoked key keeps working at most that long
    on a node that saw it, a trade stated in ADR 0030. Keyed by the credential's SHA-256.
    """

    def __init__(self, ttl: float = 10.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[Identity, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(credential: str) -> str:
        return hashlib.sha256(credential.encode()).hexdigest()

    def get(self, credential: str) -> Identity | None:
        found = self._entries.get(self._digest(credential))
        if found is None or found[1] < self.clock():
            return None
        return found[0]

    def put(self, credential: str, identity: Identity) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[self._digest(credential)] = (identity, self.clock() + self.ttl)


class Authenticator:
    def __init__(self, keys: ApiKeyStore, jwt_key: str | None = None,
                 jwt_algorithm: str = "HS256", cache: VerifiedKeys | None = None) -> None:
        self.keys = keys
        self.jwt_algorithm = jwt_algorithm
        self.jwt_key = _load_key(jwt_key) if jwt_key else None
        self.cache = cache if cache is not None else VerifiedKeys()

    def __deepcopy__(self, memo: dict[int, Any]) -> "Authenticator":
        # Litestar copies a router (and its middleware's arguments) when it is registered:
        # the authenticator is one shared service, holding connections, never copied.
        return self

    def identify(self, credential: str, scope_aliases: Mapping[str, str] | None = None) -> Identity:
        """The caller's identity; raises Unauthorized. Blocking (a key store lookup).

        `scope_aliases` lets a token name Lading's scopes in another API's words."""
        if self.jwt_key is not None and credential.count(".") == 2:
            return self._from_token(credential, scope_aliases or {})
        found = self.keys.verify(credential)
        if found is None:
            raise Unauthorized("invalid API key")
        identity = Identity(workspace=found.workspace, scopes=frozenset(found.scopes),
                            subject=f"key:{found.key_id}", public_id=found.public_id)
        self.cache.put(credential, identity)
        return identity

    def _from_token(self, token: str, scope_aliases: Mapping[str, str]) -> Identity:
        try:
            claims = jwt.decode(token, self.jwt_key, algorithms=[self.jwt_algorithm],
                                options={"require": ["exp"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        workspace = claims.get("workspace")
        raw_scopes = claims.get("scopes", claims.get("scope", []))
        if isinstance(raw_scopes, str):
            raw_scopes = raw_scopes.split()
        if not isinstance(workspace, str) or not workspace or not isinstance(raw_scopes, list):
            raise Unauthorized("token lacks a workspace claim or a scopes list")
        check_workspace_name(workspace)  # `..`, NUL or 5,000 characters are a bad request
        named = (scope_aliases.get(s, s) for s in raw_scopes if isinstance(s, str))
        scopes = frozenset(s for s in named if s in SCOPES)
        subject = str(claims.get("sub", ""))
        return Identity(workspace=workspace, scopes=scopes, subject=f"jwt:{workspace}:{subject}",
                        public_id=subject)


def _load_key(value: str) -> str:
    """An HMAC secret or PEM public key, inline or as a path to a file holding it."""
    if not value.lstrip().startswith("-----") and len(value) < 4096:
        path = Path(value)
        try:
            if path.is_file():
                return path.read_text()
        except OSError:
            pass
    return value


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: Any, authenticator: Authenticator, **kwargs: Any) -> None:
        super().__init__(app, exclude_from_auth_key=EXCLUDE_FROM_AUTH, **kwargs)
        self.authenticator = authenticator

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        credential = presented_credential(connection.headers)
        if not credential:
            raise Unauthorized("an API key is required (Authorization: Bearer KEY or X-API-Key)")
        identity = self.authenticator.cache.get(credential)
        if identity is None:
            identity = await anyio.to_thread.run_sync(self.authenticator.identify, credential)
        return AuthenticationResult(user=identity, auth=credential)


def requires(scope: str):
    """A route guard: the caller's key must hold `scope` (or admin)."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        # async on purpose: Litestar runs a sync guard in a thread, a hop per request.
        identity: Identity = connection.user
        if not identity.has(scope):
            raise Forbidden(f"this key lacks the '{scope}' scope")

    guard.__name__ = f"requires_{scope.replace(':', '_')}"
    return guard
