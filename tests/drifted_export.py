"""A 20,000-row export written clean, and drifted as real exports drift (issue 10 "Done
when"): cp1252 and `;`, reordered and extra columns, renamed headers (`Is VIP`), day-first dates,
decimal commas, `Yes`/`No` and lower-case codes. The mapping is the one written for the clean file."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from lading.domain.table_schema import TableSchema

ROWS = 20_000
SCHEMA_DICT = {"primaryKey": ["id"], "fields": [
    {"name": "id", "type": "integer"},
    {"name": "email", "type": "string", "format": "email", "constraints": {"required": True}},
    {"name": "first_name", "type": "string"},
    {"name": "is_vip", "type": "boolean"},
    {"name": "joined", "type": "date"},
    {"name": "amount", "type": "number"},
    {"name": "country", "type": "string", "constraints": {"enum": ["US", "FR", "DE", "ES"]}},
]}
SCHEMA = TableSchema.from_dict(SCHEMA_DICT)
CLEAN_MAPPING = {"fieldMap": {"id": "id", "email": "email", "first_name": "first_name",
                              "VIP": "is_vip", "joined": "joined", "amount": "amount",
                              "country": "country"}}
NAMES = ["Ada", "José", "Zoë", "François", "Björn", "Ana"]


def records():
    rng = random.Random(10)
    start = date(2015, 1, 1)
    for i in range(1, ROWS + 1):
        yield {"id": i, "email": f"user{i}@example.com", "first_name": rng.choice(NAMES),
               "vip": rng.random() < 0.3, "joined": start + timedelta(days=rng.randrange(3000)),
               "cents": rng.randrange(0, 10_000_000), "country": rng.choice(["US", "FR", "DE", "ES"])}


def write_clean(path: Path) -> None:
    lines = ["id,email,first_name,VIP,joined,amount,country"]
    for r in records():
        lines.append(f"{r['id']},{r['email']},{r['first_name']},{str(r['vip']).lower()},"
                     f"{r['joined'].isoformat()},{r['cents'] // 100}.{r['cents'] % 100:02d},{r['country']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_drifted(path: Path) -> None:
    lines = ["Notes;Land;Amount (€);Is VIP;E-mail;Joined On;First Name;ID"]
    for r in records():
        euros = f"{r['cents'] // 100:,}".replace(",", ".") + f",{r['cents'] % 100:02d}"
        lines.append(f"note {r['id'] % 7};{r['country'].lower()};{euros};"
                     f"{'Yes' if r['vip'] else 'No'};{r['email']};{r['joined'].strftime('%d/%m/%Y')};"
                     f"{r['first_name']};{r['id']}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
