"""Count the rows a destination database really writes, observed by the database itself.

"Unchanged rows are not written" (SPEC §8) cannot be seen in the rows' values, so tests watch
the storage: on SQLite a test trigger counts every row inserted or updated (an UPDATE to the
same values fires it too); on PostgreSQL every write makes a new row version with a new xmin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lading.adapters.sql_naming import quote_ident

Sql = Callable[[str], list[tuple]]


def watch_writes(kind: str, sql: Sql, table: str, key: Sequence[str]) -> Callable[[], int]:
    """Start counting writes into `table` (its real name); return a function giving the count."""
    quoted = quote_ident(table)
    if kind == "sqlite":
        sql("create table if not exists test_row_writes (n INTEGER NOT NULL)")
        sql("delete from test_row_writes")
        sql("insert into test_row_writes values (0)")
        for event in ("insert", "update"):
            sql(f"create trigger if not exists test_count_{event} after {event} on {quoted}"
                " begin update test_row_writes set n = n + 1; end")
        return lambda: sql("select n from test_row_writes")[0][0]
    keys = ", ".join(quote_ident(k) for k in key)
    versions = f"select row({keys})::text, xmin::text from {quoted}"
    before = dict(sql(versions))
    return lambda: sum(before.get(k) != xmin for k, xmin in sql(versions))
