"""Who is using the console: an API key or JWT, given once at sign-in and kept server-side.

The browser holds only a random session id (HttpOnly, SameSite=Strict cookie); the credential
stays in the server's session store and is checked again on every request by the API's own
Authenticator (ADR 0039), so a revoked key or an expired token ends the session as it ends
API access, and the workspace and scopes are exactly the API's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.di import NamedDependency
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from lading.domain.errors import DomainError
from lading.entrypoints.http.auth import READ, WRITE, Authenticator, Identity
from lading.entrypoints.http.errors import Forbidden, Unauthorized

SESSION_COOKIE = "lading_session"
SESSION_STORE = "console-sessions"
SESSION_NAMESPACE = "lading:console-sessions"
SESSION_SECONDS = 8 * 3600
_CREDENTIAL = "credential"


SignedIn = NamedDependency[Identity]  # the `identity` (any key) or `writer` (write scope) dependency
AuthenticatorDependency = NamedDependency[Authenticator]


class SignInRequired(DomainError):
    """No session, or one whose credential no longer verifies: the console asks to sign in."""

    code = "AUTH.UNAUTHORIZED"


def session_config(secure: bool) -> ServerSideSessionConfig:
    return ServerSideSessionConfig(
        key=SESSION_COOKIE, store=SESSION_STORE, max_age=SESSION_SECONDS, path="/console",
        httponly=True, samesite="strict", secure=secure, renew_on_access=True,
    )


def session_store(redis_url: str | None, home: Path) -> Store:
    """Where sessions live, shared by every `lading serve` node (ADR 0043): Redis when
    configured (the rate limiter's), else files under LADING_HOME, which nodes on one host share.
    The directory is the owner's alone: each session file holds its credential."""
    if redis_url:
        from litestar.stores.redis import RedisStore
        from redis.asyncio import Redis

        return RedisStore(Redis.from_url(redis_url), namespace=SESSION_NAMESPACE,
                          handle_client_shutdown=True)
    directory = home / SESSION_STORE
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return FileStore(directory)


async def identify(authenticator: Authenticator, credential: str) -> Identity:
    """The identity a credential acts as, through the API's cache and key store."""
    identity = authenticator.cache.get(credential)
    if identity is None:
        identity = await anyio.to_thread.run_sync(authenticator.identify, credential)
    return identity


async def sign_in(request: Request, authenticator: Authenticator, credential: str) -> Identity:
    """Check the credential and start a fresh session for it; raise Unauthorized."""
    identity = await identify(authenticator, credential.strip())
    if not identity.has(READ):
        raise Forbidden("this key lacks the 'imports:read' scope the console needs")
    # A new session id on every sign-in, so an id planted in the browser before sign-in
    # (session fixation) never becomes a signed-in session. Litestar's middleware keeps the
    # request's id (its cookie, remembered in the scope state) unless both are forgotten;
    # the sign-in test fails if an upgrade changes that.
    old = request.cookies.pop(SESSION_COOKIE, None)
    ScopeState.from_scope(request.scope).session_id = Empty
    store = request.app.stores.get(SESSION_STORE)
    if old:
        await store.delete(old)
    if isinstance(store, FileStore):  # Redis expires its keys; files of abandoned sessions stay
        await store.delete_expired()
    request.set_session({_CREDENTIAL: credential.strip()})
    return identity


def sign_out(request: Request) -> None:
    request.clear_session()


async def current_identity(request: Request, authenticator: Authenticator) -> Identity:
    """The signed-in caller; raise SignInRequired when there is none (or it stopped verifying)."""
    credential = request.session.get(_CREDENTIAL)
    if not isinstance(credential, str) or not credential:
        request.clear_session()  # no store entry for a visitor who is not signed in
        raise SignInRequired("sign in with an API key")
    try:
        identity = await identify(authenticator, credential)
    except Unauthorized as exc:
        request.clear_session()
        raise SignInRequired(f"your session ended: {exc}") from None
    if not identity.has(READ):
        raise Forbidden("this key lacks the 'imports:read' scope")
    return identity


def require_write(identity: Identity) -> Identity:
    if not identity.has(WRITE):
        raise Forbidden("this key is read-only: it lacks the 'imports:write' scope")
    return identity


def provide_identity(authenticator: Authenticator) -> Any:
    async def identity(request: Request) -> Identity:
        return await current_identity(request, authenticator)

    return identity


def provide_writer(authenticator: Authenticator) -> Any:
    async def writer(request: Request) -> Identity:
        return require_write(await current_identity(request, authenticator))

    return writer
