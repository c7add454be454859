"""How well a column's sample values fit a field, judged by the engine's own value rules.

Used where a name says nothing: a header column renamed beyond recognition is still an
integer column, an email column, a column of the field's enum values. The judgement is the
one validation makes (column format chosen from the sample, then `evaluate` in balanced mode),
so a column that "fits" here is a column whose rows would validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lading.domain.column_formats import choose_column_formats
from lading.domain.field_rules import Issue, evaluate, make_rule
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import Field, TableSchema

# A column must carry at least this share of accepted values to count as fitting at all.
MIN_FIT = 0.9


@dataclass(frozen=True)
class Fit:
    accepted: int
    present: int  # non-missing values judged
    layout: str | None = None  # the column format validation would choose (e.g. "%d/%m/%Y")

    @property
    def share(self) -> float:
        return self.accepted / self.present if self.present else 0.0

    @property
    def fits(self) -> bool:
        return self.present > 0 and self.share >= MIN_FIT


def is_informative(f: Field) -> bool:
    """Whether a value check can tell this field's column from others (plain text cannot)."""
    c = f.constraints
    return (f.type != "string" or f.format != "default" or c.enum is not None
            or c.pattern is not None)


def value_fit(f: Field, values: Sequence[Any], missing_values: Sequence[str] = ("",)) -> Fit:
    """How many of the non-missing `values` the field accepts (as balanced validation would)."""
    schema = TableSchema(fields=(f,), primary_key=(f.name,), missing_values=tuple(missing_values))
    plan = ImportPlan(field_map={f.name: f.name})
    fmt = choose_column_formats(schema, plan, (f.name,), {f.name: values})[f.name]
    rule = make_rule(f, f.name, False, False, fmt, tuple(missing_values), None)
    accepted = present = 0
    for raw in values:
        result = evaluate(rule, raw)
        if result.issue is Issue.NONE and result.value is None:
            continue  # missing
        present += 1
        accepted += result.issue is Issue.NONE
    return Fit(accepted=accepted, present=present, layout=fmt.label)
