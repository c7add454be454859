"""One process at a time sets up what it shares on a PostgreSQL database.

Every adapter, and the eventsourcing library, creates its tables (and the library a composite
type and a function) when a process starts, with IF NOT EXISTS and OR REPLACE; two processes
doing so at the same moment still collide in the catalogs ("tuple concurrently updated", or a
duplicate key on pg_type), and one of them dies: a cluster's workers and API nodes all start
together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def set_up_alone(url: str, what: str) -> Iterator[None]:
    """Hold, for the block, a session advisory lock named after `what` on `url`'s database."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (f"lading-set-up:{what}",))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (f"lading-set-up:{what}",))
