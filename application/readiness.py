"""Readiness: can this node reach what it needs (event store, destination, blob storage, …)?"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

CHECK_TIMEOUT_SECONDS = 5.0


class Readiness:
    def __init__(self, checks: dict[str, Callable[[], None]],
                 timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
        self.checks = checks
        self.timeout = timeout

    def report(self) -> dict[str, str]:
        """Each dependency's answer: "ok", or why it failed. The checks run at once, each
        bounded by the timeout, so one hanging server cannot hold the probe."""
        pool = ThreadPoolExecutor(max_workers=max(1, len(self.checks)), thread_name_prefix="readyz")
        futures = {name: pool.submit(check) for name, check in self.checks.items()}
        out: dict[str, str] = {}
        for name, future in futures.items():
            try:
                future.result(timeout=self.timeout)
                out[name] = "ok"
            except FutureTimeout:
                out[name] = f"no answer within {self.timeout:g} s"
            except Exception as exc:  # the reason is the answer
                out[name] = f"{type(exc).__name__}: {exc}"[:300]
        pool.shutdown(wait=False, cancel_futures=True)
        return out
