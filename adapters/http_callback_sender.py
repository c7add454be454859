"""Calls a job's callbackUrl: POST the final status as JSON, signed, with retries and backoff.

The body is signed with HMAC-SHA256 under LADING_SECRET (`X-Lading-Signature: sha256=<hex>`), so
the receiver can tell Lading's calls from anyone else's. stdlib urllib: one request per attempt,
nothing to pool.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from lading.application.ports import CallbackOutcome
from lading.domain.callback_targets import CallbackTargetRefused, check_callback_host


class HttpCallbackSender:
    def __init__(self, secret: str, attempts: int = 3, backoff_seconds: float = 0.5,
                 timeout_seconds: float = 3.0, allow_private: bool = False) -> None:
        self._secret = secret.encode()
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds  # short: a receiver that never answers costs little
        self.allow_private = allow_private

    def send(self, url: str, document: dict[str, Any]) -> CallbackOutcome:
        if not self.allow_private:
            try:  # where the name points now, not when the job was created (ADR 0081)
                host = urlsplit(url).hostname or ""
                addresses = [info[4][0] for info in socket.getaddrinfo(host, None)]
                check_callback_host(host, addresses)
            except CallbackTargetRefused as exc:
                return CallbackOutcome(False, 0, str(exc))
            except OSError as exc:
                return CallbackOutcome(False, 0, f"cannot resolve the callback host: {exc}")
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        detail = ""
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 2))
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "User-Agent": "Lading",
                "X-Lading-Signature": f"sha256={signature}"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                    return CallbackOutcome(True, attempt, str(response.status))
            except urllib.error.HTTPError as exc:
                detail = str(exc.code)
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    break  # the receiver refuses this call; repeating it will not help
            except (urllib.error.URLError, OSError, ValueError) as exc:
                detail = str(getattr(exc, "reason", exc))
        return CallbackOutcome(False, attempt, detail)
