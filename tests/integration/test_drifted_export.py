"""The drifted export of a 20,000-row file imports, with the mapping written for the clean file,
into records identical to the clean file's, with every healing listed (issue 10, "Done when"):
cp1252 and `;`, reordered and extra columns, renamed headers (`Is VIP`), a column found by its
values, day-first dates, decimal commas, `Yes`/`No` and lower-case codes."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.application.ports import SourceFile
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

ROWS = 20_000
SCHEMA = TableSchema.from_dict({"primaryKey": ["id"], "fields": [
    {"name": "id", "type": "integer"},
    {"name": "email", "type": "string", "format": "email", "constraints": {"required": True}},
    {"name": "first_name", "type": "string"},
    {"name": "is_vip", "type": "boolean"},
    {"name": "joined", "type": "date"},
    {"name": "amount", "type": "number"},
    {"name": "country", "type": "string", "constraints": {"enum": ["US", "FR", "DE", "ES"]}},
]})
CLEAN_MAPPING = {"fieldMap": {"id": "id", "email": "email", "first_name": "first_name",
                              "VIP": "is_vip", "joined": "joined", "amount": "amount",
                              "country": "country"}}
NAMES = ["Ada", "José", "Zoë", "François", "Björn", "Ana"]


def _records():
    rng = random.Random(10)
    start = date(2015, 1, 1)
    for i in range(1, ROWS + 1):
        yield {"id": i, "email": f"user{i}@example.com", "first_name": rng.choice(NAMES),
               "vip": rng.random() < 0.3, "joined": start + timedelta(days=rng.randrange(3000)),
               "cents": rng.randrange(0, 10_000_000), "country": rng.choice(["US", "FR", "DE", "ES"])}


def _clean(path: Path) -> None:
    lines = ["id,email,first_name,VIP,joined,amount,country"]
    for r in _records():
        lines.append(f"{r['id']},{r['email']},{r['first_name']},{str(r['vip']).lower()},"
                     f"{r['joined'].isoformat()},{r['cents'] // 100}.{r['cents'] % 100:02d},{r['country']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _drifted(path: Path) -> None:
    lines = ["Notes;Land;Amount (€);Is VIP;E-mail;Joined On;First Name;ID"]
    for r in _records():
        euros = f"{r['cents'] // 100:,}".replace(",", ".") + f",{r['cents'] % 100:02d}"
        lines.append(f"note {r['id'] % 7};{r['country'].lower()};{euros};"
                     f"{'Yes' if r['vip'] else 'No'};{r['email']};{r['joined'].strftime('%d/%m/%Y')};"
                     f"{r['first_name']};{r['id']}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def _run(path: Path, work: Path):
    engine = ArrowValidationEngine()
    chunks = list(engine.validate(SourceFile(path, path.name), SCHEMA,
                                  ImportPlan.from_dict(CLEAN_MAPPING, SCHEMA), work,
                                  work / "errors.jsonl"))
    rows = [r for c in chunks if c.staged_path for r in engine.load_chunk(c.staged_path).to_pylist()]
    return chunks, rows


def test_a_drifted_export_imports_into_the_clean_files_records_with_every_healing_listed(tmp_path):
    _clean(tmp_path / "clean.csv")
    _drifted(tmp_path / "drifted.csv")
    clean_chunks, clean_rows = _run(tmp_path / "clean.csv", tmp_path / "w1")
    drifted_chunks, drifted_rows = _run(tmp_path / "drifted.csv", tmp_path / "w2")
    assert len(clean_rows) == ROWS and sum(c.invalid_rows for c in clean_chunks) == 0
    assert sum(c.invalid_rows for c in drifted_chunks) == 0
    assert drifted_rows == clean_rows
    first = drifted_chunks[0]
    assert first.header_healing == {"ID": "id", "E-mail": "email", "First Name": "first_name",
                                    "Is VIP": "is_vip", "Joined On": "joined",
                                    "Amount (€)": "amount", "Land": "country"}
    assert first.column_formats == {"joined": "%d/%m/%Y", "amount": "1.234,56",
                                    "country": "enum letter case ignored"}
    healed = {f: sorted(kinds) for f, kinds in
              {k: v for c in drifted_chunks for k, v in c.healed_by_field.items()}.items()}
    assert healed == {"is_vip": ["boolean_word"], "joined": ["date_format"],
                      "amount": ["number_format"], "country": ["enum_case"]}
