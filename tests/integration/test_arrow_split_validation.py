"""The split validation (ADR 0055) against the engine's one-run validation of the same file:
chunks validated alone, in any order, then decided in order, corrected by another process
(last chunk first) and taken in order, give every chunk the outcome, the staged rows and the
error lines one run gives. Settling again (a coordinator that crashed while settling) gives
the same again."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.adapters.arrow_split_validation import ArrowSplitValidation
from lading.adapters.filesystem_blob_store import FilesystemBlobStore
from lading.application.job_parts import JobParts
from lading.application.ports import SourceFile
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

KEYED = {"fields": [{"name": "code", "type": "string", "constraints": {"required": True}},
                    {"name": "n", "type": "integer"},
                    {"name": "note", "type": "string"}],
         "primaryKey": ["code"]}
WITH_UNIQUE = {"fields": [{"name": "id", "type": "integer"},
                          {"name": "email", "type": "string", "constraints": {"unique": True}},
                          {"name": "n", "type": "integer"}],
               "primaryKey": ["id"]}


def _keyed_csv(path: Path, rows: int = 4000) -> None:
    lines = ["code,n,note"]
    for i in range(rows):
        key = f"k{i % 300}" if i % 9 == 0 else f"k{i}"  # repeats across chunks
        n = "x" if i % 13 == 0 else str(i)  # an invalid row may hold a key's first copy
        note = f'"two\nlines {i}"' if i % 4 == 0 else f"note {i}"
        lines.append(f"{key},{n},{note}" + (",ragged" if i % 101 == 0 else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _unique_ndjson(path: Path, rows: int = 5000) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(rows):
            email = f"u{i % 500}@example.com" if i % 6 == 0 else f"u{i}@example.com"
            fh.write(json.dumps({"id": i % 2000 if i % 10 == 0 else i, "email": email, "n": i}) + "\n")


def _keyed_ndjson(path: Path, rows: int = 5000) -> None:
    """Keys repeating across chunks, among the lines a reader must number exactly: blank,
    malformed and non-object lines, CRLF and lone-CR endings."""
    with open(path, "wb") as fh:
        for i in range(rows):
            key = f"k{i % 300}" if i % 9 == 0 else f"k{i}"
            n = "x" if i % 13 == 0 else i
            line = json.dumps({"code": key, "n": n, "note": f"note {i}"}).encode()
            if i % 211 == 0:
                line = b"{not json"
            elif i % 307 == 0:
                line = b"[1, 2]"
            ending = b"\r\n" if 1000 <= i < 1600 else b"\r" if i == 2500 else b"\n"
            fh.write(line + ending + (b"\n" if i % 97 == 0 else b""))


def _one_run(engine, source, schema, plan, tmp_path):
    error_file = tmp_path / "one-run-errors.jsonl"
    chunks = list(engine.validate(source, schema, plan, tmp_path / "one-run", error_file))
    return ([_outcome(c, c.staged_path) for c in chunks],
            error_file.read_bytes() if error_file.exists() else b"")


def _outcome(chunk, staged):
    rows = pa.ipc.open_file(pa.memory_map(str(staged))).read_all() if staged else None
    return (chunk.index, chunk.read_rows, chunk.valid_rows, chunk.rejected_by_code,
            chunk.rejected_by_field, chunk.healed_by_field, chunk.warnings_by_field,
            chunk.header_healing, chunk.column_formats, rows)


def _split_job(tmp_path: Path, name: str, write, schema_dict: dict = KEYED):
    """A file written by `write`, its one-run outcome, and a split reader's parts."""
    path = tmp_path / name
    write(path)
    schema = TableSchema.from_dict(schema_dict)
    plan = ImportPlan.from_dict({}, schema)
    engine = ArrowValidationEngine(block_size=1 << 14)
    source = SourceFile(path, name)
    expected = _one_run(engine, source, schema, plan, tmp_path)
    split = ArrowSplitValidation(engine)
    parts = JobParts(FilesystemBlobStore(tmp_path / "blobs"), "w/jobs/j/parts/v1", tmp_path / "reader")
    return schema, plan, engine, split, parts, source, expected


def _take(decisions, count, workdir):
    """Every chunk's outcome in order, and the error lines they add up to."""
    outcomes, errors = [], b""
    workdir.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        settled = decisions.outcome(index, workdir / f"staged-{index}.arrow")
        outcomes.append(_outcome(settled.chunk, settled.chunk.staged_path))
        if settled.error_lines is not None:
            errors += settled.error_lines.read_bytes()
    return outcomes, errors


def _settle(split, parts, schema, plan, count, workdir, corrector):
    """Decide every chunk in order, have `corrector` (another process's parts) judge again
    the rows the decisions name, last chunk first, then take each chunk's outcome in order."""
    decisions = split.key_decisions(parts, schema, plan, workdir)
    to_correct = [index for index in range(count) if decisions.decide(index, None)]
    for index in reversed(to_correct):
        ArrowSplitValidation(split.engine).correct_part(corrector, schema, plan, index, None)
    return (*_take(decisions, count, workdir), to_correct)


@pytest.mark.parametrize("name, schema, write", [
    ("keyed.csv", KEYED, _keyed_csv),
    ("keyed.ndjson", KEYED, _keyed_ndjson),
    ("unique.ndjson", WITH_UNIQUE, _unique_ndjson),
], ids=["string-keys-csv", "string-keys-ndjson", "unique-field-ndjson"])
def test_chunks_validated_alone_then_settled_give_the_one_run_outcome(tmp_path, name, schema, write):
    table_schema, plan, engine, split, parts, source, expected = _split_job(tmp_path, name, write,
                                                                           schema)
    assert len(expected[0]) > 5 and b"DUPLICATE_KEY" in expected[1]
    count = sum(1 for _ in split.split(source, table_schema, plan, parts))
    assert count > 5
    # Another process validates the chunks, last first, as helpers racing ahead would.
    helper = JobParts(parts.blobs, parts.prefix, tmp_path / "helper")
    for index in reversed(range(count)):
        ArrowSplitValidation(engine).validate_part(helper, table_schema, plan, index, None)
    outcomes, errors, corrected = _settle(split, parts, table_schema, plan, count,
                                          tmp_path / "settle-1", helper)
    assert (outcomes, errors) == expected
    assert corrected or schema is WITH_UNIQUE  # judged again whole while deciding instead
    assert _settle(split, parts, table_schema, plan, count, tmp_path / "settle-2",
                   helper)[:2] == expected


@pytest.mark.parametrize("name, write", [("keyed.csv", _keyed_csv), ("keyed.ndjson", _keyed_ndjson)],
                         ids=["csv", "ndjson"])
def test_chunks_judged_in_order_need_no_correction_and_a_resumed_settling_agrees(tmp_path, name,
                                                                                  write):
    schema, plan, engine, split, parts, source, expected = _split_job(tmp_path, name, write)
    raws = list(split.split(source, schema, plan, parts))
    count, half = len(raws), len(raws) // 2
    # The reader, alone at first, judges the first half as it reads them; a helper arriving
    # late validates the rest alone, and those are decided (and corrected) as before.
    decisions = split.key_decisions(parts, schema, plan, tmp_path / "settle-1")
    for index, raw in raws[:half]:
        assert decisions.judge_in_order(index, None, raw)
    helper = JobParts(parts.blobs, parts.prefix, tmp_path / "helper")
    for index in range(half, count):
        ArrowSplitValidation(engine).validate_part(helper, schema, plan, index, None)
    later = [index for index in range(half, count) if decisions.decide(index, None)]
    for index in later:
        ArrowSplitValidation(engine).correct_part(helper, schema, plan, index, None)
    assert later, "a duplicate of an earlier chunk's key is still corrected"
    assert _take(decisions, count, tmp_path / "taken-1") == expected
    # The coordinator crashed after that: the next one decides every chunk from the first again.
    outcomes, errors, corrected = _settle(split, parts, schema, plan, count, tmp_path / "settle-2",
                                          helper)
    assert (outcomes, errors) == expected
    assert all(index >= half for index in corrected)


def test_a_schema_with_unique_fields_is_never_judged_in_order(tmp_path):
    path = tmp_path / "unique.ndjson"
    _unique_ndjson(path)
    schema = TableSchema.from_dict(WITH_UNIQUE)
    plan = ImportPlan.from_dict({}, schema)
    split = ArrowSplitValidation(ArrowValidationEngine(block_size=1 << 14))
    parts = JobParts(FilesystemBlobStore(tmp_path / "blobs"), "w/jobs/j/parts/v1", tmp_path / "reader")
    (index, raw), *_ = split.split(SourceFile(path, path.name), schema, plan, parts)
    decisions = split.key_decisions(parts, schema, plan, tmp_path / "settle")
    assert not decisions.judge_in_order(index, None, raw)
    assert not parts.has(JobParts.result(index))


@pytest.mark.parametrize("name, write", [("keyed.csv", _keyed_csv), ("keyed.ndjson", _keyed_ndjson)],
                         ids=["csv", "ndjson"])
def test_a_helper_judging_against_earlier_chunks_keys_leaves_fewer_corrections(tmp_path, name,
                                                                              write):
    schema, plan, engine, split, parts, source, expected = _split_job(tmp_path, name, write)
    count = sum(1 for _ in split.split(source, schema, plan, parts))
    # One helper validates every third chunk first, alone; a second helper then validates the
    # rest in ascending order, each against the keys of every earlier chunk validated so far.
    first = JobParts(parts.blobs, parts.prefix, tmp_path / "helper-1")
    for index in range(0, count, 3):
        ArrowSplitValidation(engine).validate_part(first, schema, plan, index, None)
    second = JobParts(parts.blobs, parts.prefix, tmp_path / "helper-2")
    helper = ArrowSplitValidation(engine)
    with helper.earlier_keys(second) as earlier:
        for index in range(count):
            if not second.has(JobParts.result(index)):
                helper.validate_part(second, schema, plan, index, None, earlier=earlier)
    assert not (tmp_path / "helper-2" / "earlier-keys").exists()
    outcomes, errors, corrected = _settle(split, parts, schema, plan, count, tmp_path / "settle-1",
                                          second)
    assert (outcomes, errors) == expected
    # Only the first helper's chunks can repeat a key of an earlier chunk not seen when judged.
    assert corrected and all(index % 3 == 0 for index in corrected)
    assert _settle(split, parts, schema, plan, count, tmp_path / "settle-2", second)[:2] == expected


def test_a_chunk_validated_again_keeps_no_candidates_of_the_attempt_before(tmp_path):
    schema, plan, engine, split, parts, source, expected = _split_job(tmp_path, "keyed.csv",
                                                                      _keyed_csv)
    raws = list(split.split(source, schema, plan, parts))
    last = len(raws) - 1
    helper = JobParts(parts.blobs, parts.prefix, tmp_path / "helper")
    for index in range(last + 1):
        ArrowSplitValidation(engine).validate_part(helper, schema, plan, index, None)
    # The last chunk's first attempt was cut short after its candidates were stored: the reader,
    # every chunk before it decided, judges it in order and stores none.
    parts.drop([JobParts.result(last)])
    assert parts.has(JobParts.keys(last, "candidates"))
    decisions = split.key_decisions(parts, schema, plan, tmp_path / "settle")
    to_correct = [index for index in range(last) if decisions.decide(index, None)]
    for index in to_correct:
        ArrowSplitValidation(engine).correct_part(helper, schema, plan, index, None)
    assert decisions.judge_in_order(last, None, raws[last][1])
    assert not parts.has(JobParts.keys(last, "candidates"))
    assert _settle(split, parts, schema, plan, last + 1, tmp_path / "settle-2", helper)[:2] == expected


def test_a_reader_judging_ahead_of_undecided_chunks_gives_the_one_run_outcome(tmp_path):
    schema, plan, engine, split, parts, source, expected = _split_job(tmp_path, "keyed.csv",
                                                                      _keyed_csv)
    raws = list(split.split(source, schema, plan, parts))
    count, third = len(raws), len(raws) // 3
    decisions = split.key_decisions(parts, schema, plan, tmp_path / "settle-1")
    for index, raw in raws[:third]:
        assert decisions.judge_in_order(index, None, raw)
    # A helper holds the middle third, not validated yet; the reader judges the last third
    # against the first third's keys meanwhile.
    for index, raw in raws[2 * third:]:
        assert decisions.judge_ahead(index, None, raw)
    helper = JobParts(parts.blobs, parts.prefix, tmp_path / "helper")
    for index in range(third, 2 * third):
        ArrowSplitValidation(engine).validate_part(helper, schema, plan, index, None)
    later = [index for index in range(third, count) if decisions.decide(index, None)]
    for index in later:
        ArrowSplitValidation(engine).correct_part(helper, schema, plan, index, None)
    assert _take(decisions, count, tmp_path / "taken-1") == expected
    assert _settle(split, parts, schema, plan, count, tmp_path / "settle-2", helper)[:2] == expected
