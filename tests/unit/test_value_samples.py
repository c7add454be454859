"""Samples for the detailed report are the first five of the job, whatever its chunks."""

from __future__ import annotations

from lading.application.ports import ValidatedChunk
from lading.application.value_samples import ValueSamples


def chunk(index: int, rows: range) -> ValidatedChunk:
    return ValidatedChunk(
        index=index, read_rows=len(rows), valid_rows=len(rows), rejected_by_code={},
        rejected_by_field={}, error_segment=None, staged_path=None,
        healing_samples={"active": {"boolean_word": [{"rowNumber": n, "value": "Yes", "healed": "true"}
                                                     for n in rows]}},
        warning_samples={"score": [{"rowNumber": n, "value": "x"} for n in rows]})


def test_the_first_five_of_each_are_kept_in_row_order_across_chunks():
    samples = ValueSamples()
    for index, rows in enumerate((range(1, 4), range(4, 7), range(7, 10))):
        samples.add(chunk(index, rows))
    assert [s["rowNumber"] for s in samples.healing["active"]["boolean_word"]] == [1, 2, 3, 4, 5]
    assert [s["rowNumber"] for s in samples.warnings["score"]] == [1, 2, 3, 4, 5]
    assert ValueSamples.from_json(samples.to_json()) == samples
