"""The databases the contract tests run on: the same test, SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lading.adapters.sqlite_destination import database_path


@dataclass
class Database:
    """Where a store lives (a SQLite directory or a postgresql:// URL) and a way to run raw SQL
    on it (for test set-up and checks only)."""

    name: str
    target: Path | str
    sql: Callable[[str], list[tuple]]


@dataclass
class Backend:
    """A way to open one kind of store on a database, and to run raw SQL on it (for test
    set-up only)."""

    name: str
    open: Callable[[], Any]
    sql: Callable[[str], list[tuple]]

    @classmethod
    def of(cls, database: Database, on_sqlite: Callable[[Any], Any],
           on_postgres: Callable[[Any], Any]) -> Backend:
        store = on_sqlite if database.name == "sqlite" else on_postgres
        return cls(database.name, lambda: store(database.target), database.sql)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        def run(statement: str) -> list[tuple]:
            with sqlite3.connect(database_path(tmp_path)) as conn:
                return conn.execute(statement).fetchall()

        yield Database("sqlite", tmp_path, run)
    else:
        url = request.getfixturevalue("postgres_url")

        def run(statement: str) -> list[tuple]:
            with psycopg.connect(url, autocommit=True) as conn:
                cursor = conn.execute(statement)
                return cursor.fetchall() if cursor.description else []

        yield Database("postgres", url, run)
