"""Rate limits per caller (API key or token subject): Litestar's RateLimitConfig, counted in a
store the API nodes share when LADING_REDIS_URL is set (Redis), else in the process (ADR 0052).

Only authenticated requests count: the limiter runs after authentication, and routes without
a caller (health, readiness, metrics, docs, signed URLs) pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    CacheObject,
    RateLimitConfig,
    RateLimitMiddleware,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

STORE_NAME = "rate_limit"
REDIS_NAMESPACE = "lading:rate-limit"


def _caller(request: Request[Any, Any, Any]) -> str:
    return request.scope["user"].subject


def _has_caller(request: Request[Any, Any, Any]) -> bool:
    return getattr(request.scope.get("user"), "subject", None) is not None


def rate_limit_config(per_minute: int) -> RateLimitConfig:
    return RateLimitConfig(rate_limit=("minute", per_minute), identifier_for_request=_caller,
                           check_throttle_handler=_has_caller, store=STORE_NAME)


class WorkspaceRateLimit(RateLimitMiddleware):
    """Litestar's limiter with each caller's budget taken from its workspace's limits (the
    server's LADING_RATE_LIMIT unless the workspace set its own; 0: no limit)."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig,
                 per_minute: Callable[[str], int]) -> None:
        super().__init__(app, config)
        self._per_minute = per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        if not await self.should_check_request(request=request):
            await self.app(scope, receive, send)
            return
        limit = await anyio.to_thread.run_sync(self._per_minute, request.scope["user"].workspace)
        if limit <= 0:
            await self.app(scope, receive, send)
            return
        store = self.config.get_store_from_app(app)
        key = self.cache_key_from_request(request)
        async with self._lock:
            history = await self.retrieve_cached_history(key, store)
            if len(history.history) >= limit:
                raise TooManyRequestsException(headers=_headers(history, limit))
            await self.set_cached_history(key=key, cache_object=history, store=store)
        await self.app(scope, receive, _sending_headers(send, history, limit))


def workspace_rate_limit(per_minute: Callable[[str], int]) -> DefineMiddleware:
    # The configured rate is a placeholder: WorkspaceRateLimit asks `per_minute` per request.
    return DefineMiddleware(WorkspaceRateLimit, config=rate_limit_config(1), per_minute=per_minute)


def _headers(history: CacheObject, limit: int) -> dict[str, str]:
    """The IETF RateLimit headers Litestar sends, for this request's limit."""
    window = DURATION_VALUES["minute"]
    return {"RateLimit-Policy": f"{limit}; w={window}", "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(limit - len(history.history), 0)),
            "RateLimit-Reset": str(history.reset - int(time.time()))}


def _sending_headers(send: Send, history: CacheObject, limit: int) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            headers = MutableScopeHeaders(message)
            for name, value in _headers(history, limit).items():
                headers[name] = value
        await send(message)
    return wrapped


def rate_limit_store(redis_url: str | None, namespace: str = REDIS_NAMESPACE) -> Store:
    """Redis when configured (every node counts against the same budget), else memory."""
    if not redis_url:
        return MemoryStore()
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    return RedisStore(Redis.from_url(redis_url), namespace=namespace, handle_client_shutdown=True)
