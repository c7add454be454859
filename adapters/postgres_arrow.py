"""Merge transactions on PostgreSQL through the ADBC driver, which COPYs Arrow in binary
(ADR 0024): no CSV text to write on our side, none to parse on the server's.

The binary COPY needs the driver's own libpq connection, so a merge's whole transaction (ledger
claim, COPY, merge statements, ledger counts) runs on one of these; everything else stays on
psycopg. The driver runs every query that returns rows as `COPY (query) TO STDOUT`: statements
here are SELECTs, or DML with RETURNING wrapped in a CTE.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import adbc_driver_postgresql.dbapi as adbc

from lading.adapters.phase_timer import phase


class ArrowConnections:
    """Up to `size` ADBC connections, each used by one thread at a time."""

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._open: list[Any] = []

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside a transaction: committed when the block ends, rolled back if it
        raises. A connection that cannot even roll back is closed, not reused."""
        with self._slots:
            conn = self._take()
            cursor = conn.cursor()
            try:
                yield cursor
                with phase("commit"):
                    conn.commit()
            except BaseException:
                try:
                    conn.rollback()
                except Exception:
                    self._discard(conn)
                    raise
                self._idle.put(conn)
                raise
            else:
                self._idle.put(conn)
            finally:
                cursor.close()

    def close(self) -> None:
        with self._lock:
            for conn in self._open:
                try:
                    conn.close()
                except Exception:  # closing a broken connection: nothing left to release
                    pass
            self._open.clear()

    def _take(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            conn = adbc.connect(self._url)
            with conn.cursor() as cursor:
                # Datetimes in UTC, as the psycopg connections of PostgresDestination.
                cursor.execute("select set_config('TimeZone', 'UTC', false)")
                cursor.fetchall()
            conn.commit()
            with self._lock:
                self._open.append(conn)
            return conn

    def _discard(self, conn: Any) -> None:
        with self._lock:
            if conn in self._open:
                self._open.remove(conn)
        try:
            conn.close()
        except Exception:  # already broken
            pass


def fetch_one(cursor: Any, sql: str, params: Sequence[Any] = ()) -> tuple | None:
    cursor.execute(sql, tuple(params) if params else None)
    rows = cursor.fetchall()
    return tuple(rows[0]) if rows else None
