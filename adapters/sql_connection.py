"""One small wrapper over a sqlite3 or psycopg connection, so SQL read models and catalogs are
written once. Queries use `?` placeholders; on PostgreSQL they become `%s`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class SqlConnection:
    def __init__(self, url_or_path: str | Path) -> None:
        self._lock = threading.RLock()
        target = str(url_or_path)
        self.is_postgres = target.startswith(("postgresql://", "postgres://"))
        if self.is_postgres:
            import psycopg

            self._conn: Any = psycopg.connect(target, autocommit=True)
        else:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None,
                                         timeout=30)
            self._conn.execute("pragma journal_mode=wal")
            self._conn.execute("pragma synchronous=normal")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.is_postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            cur = self._conn.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall()) if cur.description else []

    def rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._conn.execute(self._sql(sql), tuple(params)).rowcount

    @contextmanager
    def transaction(self) -> Iterator["SqlConnection"]:
        """A write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE)."""
        with self._lock:
            if self.is_postgres:
                with self._conn.transaction():
                    yield self
            else:
                self._conn.execute("begin immediate")
                try:
                    yield self
                except BaseException:
                    self._conn.execute("rollback")
                    raise
                self._conn.execute("commit")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
