"""Is a server reachable? A fresh connection and the cheapest request, for readiness probes."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def sql_reachable(url_or_path: str | Path) -> None:
    """Raise unless the database answers. A SQLite file must already exist: a missing file is
    a misconfiguration, not an empty database."""
    target = str(url_or_path)
    if target.startswith(("postgresql://", "postgres://")):
        import psycopg

        with psycopg.connect(target, connect_timeout=3) as conn:
            conn.execute("select 1")
        return
    if not Path(target).is_file():
        raise FileNotFoundError(f"no database at {target}")
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True, timeout=3)
    try:
        conn.execute("select 1").fetchall()
    finally:
        conn.close()


def redis_reachable(url: str) -> None:
    """Raise unless Redis answers PING."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    finally:
        client.close()
