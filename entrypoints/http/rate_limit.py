"""Rate limits per caller (API key or token subject): Litestar's RateLimitConfig, counted in a
store the API nodes share when LADING_REDIS_URL is set (Redis), else in the process (ADR 0052).

Only authenticated requests count: the limiter runs after authentication, and routes without
a caller (health, readiness, metrics, docs, signed URLs) pass.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
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


def rate_limit_store(redis_url: str | None, namespace: str = REDIS_NAMESPACE) -> Store:
    """Redis when configured (every node counts against the same budget), else memory."""
    if not redis_url:
        return MemoryStore()
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    return RedisStore(Redis.from_url(redis_url), namespace=namespace, handle_client_shutdown=True)
