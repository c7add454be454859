"""The reference `make bench` measures Lading against: the short DuckDB script a data engineer
would write instead of an import service (issue 13).

Every column read as text, the `profiles` object's rules in SQL (types, required, email,
pattern, enum, minimum, calendar-valid dates), the first valid row per key, inserted into a
file-backed table keyed by `id`. No error file, no report, no crash safety: a floor, not a peer.

    python -m bench.duckdb_reference FILE.csv DATABASE.duckdb
"""

from __future__ import annotations

import sys

# The same email rule as domain/value_formats.py (ASCII whitespace only: a reference, not a twin).
EMAIL = r"[^\s@]+@[^\s@.]+(\.[^\s@.]+)+"

SCRIPT = """
create table profiles (
    id bigint primary key, email text not null, first_name text, last_name text, country text,
    signup_ts timestamptz, birth_date date, lifetime_value double, is_active boolean, plan text,
    notes text);
insert into profiles
with source as (
    select *, row_number() over () as line
    from read_csv($path, all_varchar = true, header = true, quote = '"', escape = '"',
                  strict_mode = false)
), typed as (
    select line,
        try_cast(id as bigint) as id_v, nullif(email, '') as email_v,
        nullif(first_name, '') as first_name, nullif(last_name, '') as last_name,
        nullif(country, '') as country_v,
        nullif(signup_ts, '') as signup_raw,
        case when regexp_full_match(signup_ts, '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})')
             then try_cast(signup_ts as timestamptz) end as signup_v,
        nullif(birth_date, '') as birth_raw,
        case when regexp_full_match(birth_date, '\\d{4}-\\d{2}-\\d{2}')
             then try_strptime(birth_date, '%Y-%m-%d')::date end as birth_v,
        nullif(lifetime_value, '') as value_raw,
        case when regexp_full_match(lifetime_value, '[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?')
             then try_cast(lifetime_value as double) end as value_v,
        nullif(is_active, '') as active_raw,
        case is_active when 'true' then true when 'false' then false end as active_v,
        nullif(plan, '') as plan_v, nullif(notes, '') as notes
    from source
), valid as (
    select * from typed
    where id_v is not null
      and email_v is not null and regexp_full_match(email_v, $email)
      and (country_v is null or regexp_full_match(country_v, '[A-Z]{2}'))
      and (signup_raw is null or signup_v is not null)
      and (birth_raw is null or (birth_v is not null and strftime(birth_v, '%Y-%m-%d') = birth_raw))
      and (value_raw is null or (value_v is not null and value_v >= 0))
      and (active_raw is null or active_v is not null)
      and (plan_v is null or plan_v in ('free', 'pro', 'enterprise'))
)
select id_v, email_v, first_name, last_name, country_v, signup_v, birth_v, value_v, active_v,
       plan_v, notes
from valid
qualify row_number() over (partition by id_v order by line) = 1
order by id_v;
"""


def main(path: str, database: str) -> int:
    import duckdb

    conn = duckdb.connect(database)
    conn.execute("set preserve_insertion_order = true")
    for statement in filter(str.strip, SCRIPT.split(";")):
        params = {k: v for k, v in (("path", path), ("email", EMAIL)) if f"${k}" in statement}
        conn.execute(statement, params)
    rows = conn.execute("select count(*) from profiles").fetchone()[0]
    conn.close()
    return rows


if __name__ == "__main__":
    print(main(*sys.argv[1:3]))
