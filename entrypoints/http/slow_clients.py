"""Deadlines for slow clients, which uvicorn does not have (issue 9.10, ADR 0082).

A connection must finish sending a request's headers within HEADER_TIMEOUT seconds of opening
(or of the previous response), and while it sends a body it may pause for at most
BODY_IDLE_TIMEOUT seconds between bytes; otherwise it is closed. A client that sends headers or
a body a byte at a time can no longer hold a connection (and its memory) for ever.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0
BODY_IDLE_TIMEOUT = 30.0


def protocol_with_deadlines(header_timeout: float = HEADER_TIMEOUT,
                            body_idle_timeout: float = BODY_IDLE_TIMEOUT) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the two deadlines (pass as `uvicorn.Config(http=…)`)."""

    class DeadlineH11Protocol(H11Protocol):
        _headers_due: asyncio.TimerHandle | None = None
        _body_due: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_deadline()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.SEND_BODY:
                self._cancel("_body_due")
                self._body_due = self.loop.call_later(body_idle_timeout, self._close_if, h11.SEND_BODY)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_header_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel("_headers_due")
            self._cancel("_body_due")
            super().connection_lost(exc)

        def _arm_header_deadline(self) -> None:
            self._cancel("_headers_due")
            self._headers_due = self.loop.call_later(header_timeout, self._close_if, h11.IDLE)

        def _close_if(self, waiting_in: Any) -> None:
            # Still waiting for this client's headers (IDLE) or body bytes (SEND_BODY): give up.
            if self.conn.their_state is waiting_in and not self.transport.is_closing():
                if waiting_in is h11.IDLE and self.cycle is not None and not self.cycle.response_complete:
                    return  # a response is being sent; the client is not the slow one
                self.transport.close()

        def _cancel(self, name: str) -> None:
            handle = getattr(self, name)
            if handle is not None:
                handle.cancel()
                setattr(self, name, None)

    return DeadlineH11Protocol
