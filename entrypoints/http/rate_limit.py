"""Rate limits per caller (API key or token subject): a token bucket refilled continuously.

Kept per process: one API node enforces its own budget. Several nodes behind a balancer would
each allow the full rate; a shared store (PostgreSQL or Redis) is the step for scale-out.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from lading.entrypoints.http.errors import RateLimited


class TokenBuckets:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> "TokenBuckets":
        # Shared by every router (Litestar copies routers when registering them): one budget.
        return self

    def take(self, key: str) -> float:
        """Spend one token; return 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill_per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.refill_per_second


class RateLimitMiddleware(ASGIMiddleware):
    """Runs after authentication; unauthenticated routes (health, docs, signed URLs) pass."""

    def __init__(self, buckets: TokenBuckets) -> None:
        self.buckets = buckets

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        identity: Any = scope.get("user")
        subject = getattr(identity, "subject", None)
        if subject is not None:
            wait = self.buckets.take(subject)
            if wait > 0:
                raise RateLimited(
                    f"rate limit of {int(self.buckets.capacity)} requests a minute exceeded",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
        await next_app(scope, receive, send)
