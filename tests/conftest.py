"""Shared fixtures: a real PostgreSQL schema per test, and a fresh LADING_HOME."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("LADING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
        return None
    except Exception as exc:  # any failure means "no server"; the reason is reported
        return str(exc)


_PG_PROBLEM = _postgres_available()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `slow` run first: started late, the longest of them (the cluster test
    alone takes minutes) would leave the other xdist workers idle at the end of the run.
    `make test` hands tests out a few at a time (--maxschedchunk), so they spread over workers."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema, dropped afterwards.

    Without a server the test is skipped on a developer machine but fails in CI (CI is set),
    so CI can never pass by silently skipping the PostgreSQL paths.
    """
    if _PG_PROBLEM is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL unreachable: {_PG_PROBLEM}")
    import psycopg

    name = f"lading_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'create schema "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'drop schema if exists "{name}" cascade')


@pytest.fixture
def postgres_url(postgres_schema: str) -> str:
    """A postgresql:// URL whose connections use the fresh schema as search_path."""
    return f"{PG_ADMIN_URL}?options=-csearch_path%3D{postgres_schema}"


@pytest.fixture
def lading_home(tmp_path, monkeypatch) -> str:
    home = tmp_path / "lading-home"
    home.mkdir()
    monkeypatch.setenv("LADING_HOME", str(home))
    for var in ("LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_BLOBS", "LADING_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    return str(home)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server on loopback, shared by the session's tests."""
    from tests.s3_server import running_moto_server

    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> str:
    """A fresh, empty bucket on the moto server; its name."""
    from tests.s3_server import create_bucket

    name = f"lading-{uuid.uuid4().hex[:12]}"
    create_bucket(moto_endpoint, name)
    return name


REDIS_URL = os.environ.get("LADING_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    """The Redis server's URL; skipped locally without one, failed in CI (like PostgreSQL)."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure means "no server"; the reason is reported
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI but unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return REDIS_URL
