"""Reading the values of approved fixes (see plan_fixes) as the rules use them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lading.domain import value_formats as vf

GROUP_MARKS = ("", ",", ".", " ", "'")
DECIMAL_MARKS = (".", ",")


def number_format(raw: Any) -> vf.NumberFormat | None:
    """The NumberFormat a `numberFormat` fix names, or None when it is not one."""
    if not isinstance(raw, Mapping) or set(raw) - {"decimal", "group", "currency"}:
        return None
    decimal, group, currency = raw.get("decimal", "."), raw.get("group", ""), raw.get("currency", "")
    if (decimal not in DECIMAL_MARKS or group not in GROUP_MARKS or group == decimal
            or currency not in ("", *vf.CURRENCY_SYMBOLS)):
        return None
    return vf.NumberFormat(group, decimal, currency)


def number_format_to_wire(fmt: vf.NumberFormat) -> dict[str, str]:
    out = {"decimal": fmt.decimal, "group": fmt.group}
    if fmt.currency:
        out["currency"] = fmt.currency
    return out


def value_map(fix: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Source value -> value to validate, from `enumMap` and `booleanWords` together."""
    if not fix:
        return None
    mapped: dict[str, str] = {}
    words = fix.get("booleanWords")
    if isinstance(words, Mapping):
        for canonical in ("true", "false"):
            for word in words.get(canonical) or ():
                mapped[str(word)] = canonical
    if isinstance(fix.get("enumMap"), Mapping):
        mapped.update({str(k): str(v) for k, v in fix["enumMap"].items()})
    return mapped or None
