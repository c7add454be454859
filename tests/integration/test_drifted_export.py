"""The drifted export of a 20,000-row file imports, with the mapping written for the clean file,
into records identical to the clean file's, with every healing listed (issue 10, "Done when"):
cp1252 and `;`, reordered and extra columns, renamed headers (`Is VIP`), a column found by its
values, day-first dates, decimal commas, `Yes`/`No` and lower-case codes."""

from __future__ import annotations

from pathlib import Path

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.application.ports import SourceFile
from lading.domain.plan import ImportPlan
from tests.drifted_export import CLEAN_MAPPING, ROWS, SCHEMA, write_clean, write_drifted

def _run(path: Path, work: Path):
    engine = ArrowValidationEngine()
    chunks = list(engine.validate(SourceFile(path, path.name), SCHEMA,
                                  ImportPlan.from_dict(CLEAN_MAPPING, SCHEMA), work,
                                  work / "errors.jsonl"))
    rows = [r for c in chunks if c.staged_path for r in engine.load_chunk(c.staged_path).to_pylist()]
    return chunks, rows


def test_a_drifted_export_imports_into_the_clean_files_records_with_every_healing_listed(tmp_path):
    write_clean(tmp_path / "clean.csv")
    write_drifted(tmp_path / "drifted.csv")
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
