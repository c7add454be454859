"""The import plan (mapping): which source column feeds which field, and how strictly."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lading.domain.errors import InvalidPlan, UnknownField
from lading.domain.plan_fixes import check_fixes
from lading.domain.table_schema import FIELD_TYPES, TableSchema

# A source column declared (sourceFields) as one type can feed a field of the same family;
# any column can feed a string field (its text is kept as read).
_TYPE_FAMILIES = {"integer": "numeric", "number": "numeric", "year": "numeric"}

IMPORT_MODES = ("balanced", "strict", "landing_friendly", "custom")
OPERATIONS = ("upsert", "insert", "update", "delete")


@dataclass(frozen=True)
class ReviewPolicy:
    """When to pause at needs_attention instead of completing with rejected rows."""

    kind: str = "auto"  # auto | review_on_errors | max_invalid_ratio
    max_invalid_ratio: float | None = None

    @classmethod
    def parse(cls, raw: Any) -> "ReviewPolicy":
        if raw is None or raw == "auto":
            return cls()
        if raw == "review_on_errors":
            return cls(kind="review_on_errors")
        if isinstance(raw, dict) and set(raw) == {"maxInvalidRatio"}:
            ratio = raw["maxInvalidRatio"]
            if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and 0 <= ratio <= 1:
                return cls(kind="max_invalid_ratio", max_invalid_ratio=float(ratio))
        raise InvalidPlan(
            "reviewPolicy must be 'auto', 'review_on_errors' or {\"maxInvalidRatio\": 0..1}"
        )

    def to_wire(self) -> Any:
        if self.kind == "max_invalid_ratio":
            return {"maxInvalidRatio": self.max_invalid_ratio}
        return self.kind

    @property
    def asks_a_person(self) -> bool:
        """Whether a run may pause for a decision (anything but `auto`)."""
        return self.kind != "auto"

    def should_pause(self, read_rows: int, invalid_rows: int) -> bool:
        if self.kind == "review_on_errors":
            return invalid_rows > 0
        if self.kind == "max_invalid_ratio" and read_rows:
            return invalid_rows / read_rows > (self.max_invalid_ratio or 0.0)
        return False


def feeds(declared: str, field_type: str) -> bool:
    """Whether a source column declared `declared` can hold values of a `field_type` field."""
    return (field_type == "string" or declared == field_type
            or _TYPE_FAMILIES.get(declared, declared) == _TYPE_FAMILIES.get(field_type, field_type))


@dataclass(frozen=True)
class ImportPlan:
    """A validated mapping. `field_map` goes source column -> object field."""

    field_map: dict[str, str]
    source_fields: dict[str, str] = field(default_factory=dict)
    import_mode: str = "balanced"
    operation: str = "upsert"
    review_policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    # Column-level fixes approved from a proposal: field -> {"dateFormat": ..., ...} (plan_fixes)
    fixes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], schema: TableSchema) -> "ImportPlan":
        """Parse and check a mapping against the destination's schema."""
        if not isinstance(raw, dict):
            raise InvalidPlan("the mapping must be a JSON object")
        mode = raw.get("importMode") or "balanced"
        if mode not in IMPORT_MODES:
            raise InvalidPlan(f"importMode must be one of {', '.join(IMPORT_MODES)}")
        if mode == "custom":
            raise InvalidPlan("importMode 'custom' needs a workspace policy that defines it")
        operation = raw.get("operation") or "upsert"
        if operation not in OPERATIONS:
            raise InvalidPlan(f"operation must be one of {', '.join(OPERATIONS)}")
        field_map = raw.get("fieldMap")
        if field_map is None:
            field_map = {name: name for name in schema.field_names}
        if not isinstance(field_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()
        ):
            raise InvalidPlan("fieldMap must map source column names to field names")
        if not field_map:
            raise InvalidPlan("fieldMap must map at least one column")
        known = set(schema.field_names)
        unknown = sorted(v for v in field_map.values() if v not in known)
        if unknown:
            raise UnknownField(f"fieldMap names unknown field(s): {', '.join(unknown)}")
        targets = Counter(field_map.values())
        doubled = sorted(t for t, n in targets.items() if n > 1)
        if doubled:
            raise InvalidPlan(f"more than one column maps to: {', '.join(doubled)}")
        missing_keys = [k for k in schema.primary_key if k not in targets]
        if missing_keys:
            raise InvalidPlan(f"fieldMap must map the primary key field(s): {', '.join(missing_keys)}")
        source_fields = raw.get("sourceFields") or {}
        if not isinstance(source_fields, dict):
            raise InvalidPlan("sourceFields must map source column names to types")
        for column, declared in source_fields.items():
            if declared not in FIELD_TYPES:
                raise InvalidPlan(f"sourceFields.{column}: unknown type {declared!r}; use one of "
                                  f"{', '.join(FIELD_TYPES)}")
            target = field_map.get(column)
            if target is not None and not feeds(declared, schema.field(target).type):
                raise InvalidPlan(f"sourceFields.{column}: a {declared} column cannot feed the "
                                  f"{schema.field(target).type} field '{target}'")
        fixes = check_fixes(raw.get("fixes") or {}, schema)
        return cls(
            field_map=dict(field_map),
            source_fields=dict(source_fields),
            import_mode=mode,
            operation=operation,
            review_policy=ReviewPolicy.parse(raw.get("reviewPolicy")),
            fixes=dict(fixes),
        )

    def declared_types(self) -> dict[str, str]:
        """Field -> the type sourceFields declares for the column feeding it."""
        return {self.field_map[column]: declared for column, declared in self.source_fields.items()
                if column in self.field_map}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "fieldMap": dict(self.field_map),
            "sourceFields": dict(self.source_fields),
            "importMode": self.import_mode,
            "operation": self.operation,
            "reviewPolicy": self.review_policy.to_wire(),
        }
        if self.fixes:
            out["fixes"] = dict(self.fixes)
        return out

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> "ImportPlan":
        """Rebuild a plan recorded in an event, without re-checking it against a schema."""
        return cls(
            field_map=dict(stored["fieldMap"]),
            source_fields=dict(stored.get("sourceFields") or {}),
            import_mode=stored.get("importMode", "balanced"),
            operation=stored.get("operation", "upsert"),
            review_policy=ReviewPolicy.parse(stored.get("reviewPolicy")),
            fixes=dict(stored.get("fixes") or {}),
        )
