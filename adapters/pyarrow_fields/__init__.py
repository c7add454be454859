"""Fields judged a whole chunk at a time with pyarrow.compute and numpy, each module the twin
of a part of domain/field_rules.py:

- column.py: `evaluate_column`, the twin of `evaluate` (missing values, enum maps, strict
  mode), which hands each type to its fast path and the leftovers to the reference's `parse`
- text.py, numbers.py, temporal.py: the fast paths per type
- constraints.py: `constraint_issue` and enum case healing
- typed_values.py, calendar_days.py, arrays.py: what those share
"""

from __future__ import annotations

from lading.adapters.pyarrow_fields.column import ColumnInput, FieldColumn, evaluate_column

__all__ = ["ColumnInput", "FieldColumn", "evaluate_column"]
