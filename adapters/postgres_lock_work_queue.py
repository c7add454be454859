"""The shared work queue for PostgreSQL deployments: runnable jobs come from the job index, and
the right to work on a job is a session advisory lock, released when its connection dies.

procrastinate can replace the wake-up side later without touching the application."""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from uuid import UUID

from lading.adapters.job_index_queue import JobIndexQueue

import psycopg

_JOB_NAMESPACE = 0x4C41  # "LA": keeps Lading's advisory locks apart from other users'
_WORKSPACE_NAMESPACE = 0x4C57
_RUN_NAMESPACE = 0x4C52  # one running job per `exclusive` workspace
_UNIT_NAMESPACE = 0x4C55  # one chunk of a job shared by several workers (ADR 0055)


class PostgresLockWorkQueue(JobIndexQueue):
    def __init__(self, url: str, runnable: Callable[[], list[str]]) -> None:
        super().__init__(runnable)
        self.url = url
        self._units = threading.local()

    def claim(self, job_id: UUID) -> AbstractContextManager[bool]:
        return self._try_lock(_JOB_NAMESPACE, zlib.crc32(job_id.bytes) - (1 << 31))

    @contextmanager
    def claim_unit(self, job_id: UUID, unit: str) -> Iterator[bool]:
        # Two units sharing a hash only make one wait for the other, never run both at once.
        # Units are many and short: each thread keeps one connection for them, whose death
        # (its process killed) frees every unit it held.
        key = zlib.crc32(job_id.bytes + unit.encode()) - (1 << 31)
        conn = getattr(self._units, "conn", None)
        if conn is None or conn.closed:
            conn = self._units.conn = psycopg.connect(
                self.url, autocommit=True, application_name=f"lading pid {os.getpid()}")
        got = conn.execute("select pg_try_advisory_lock(%s, %s)", (_UNIT_NAMESPACE, key)).fetchone()[0]
        try:
            yield bool(got)
        finally:
            if got:
                conn.execute("select pg_advisory_unlock(%s, %s)", (_UNIT_NAMESPACE, key))

    def claim_workspace_run(self, workspace: str) -> AbstractContextManager[bool]:
        return self._try_lock(_RUN_NAMESPACE, zlib.crc32(workspace.encode()) - (1 << 31))

    @contextmanager
    def _try_lock(self, namespace: int, key: int) -> Iterator[bool]:
        # Named after the process, so an operator (or a test) sees which worker holds what.
        with psycopg.connect(self.url, autocommit=True,
                             application_name=f"lading pid {os.getpid()}") as conn:
            got = conn.execute("select pg_try_advisory_lock(%s, %s)", (namespace, key)).fetchone()[0]
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute("select pg_advisory_unlock(%s, %s)", (namespace, key))

    @contextmanager
    def admission(self, workspace: str) -> Iterator[None]:
        key = zlib.crc32(workspace.encode()) - (1 << 31)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("select pg_advisory_lock(%s, %s)", (_WORKSPACE_NAMESPACE, key))
            try:
                yield
            finally:
                conn.execute("select pg_advisory_unlock(%s, %s)", (_WORKSPACE_NAMESPACE, key))
