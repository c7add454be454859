"""Fast paths for text fields: `string` (its email / uri / uuid format) and `boolean`.

Mirrors domain/field_rules.py's `_string` and `_boolean` for the canonical forms; every other
value (surrounding spaces, boolean words) is left to the reference's `parse`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.pyarrow_fields.arrays import mask, match, no_kind
from lading.adapters.pyarrow_fields.typed_values import Store
from lading.domain import value_formats as vf
from lading.domain.field_rules import FieldRule


def fast_string(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: Store, hints: dict):
    body = vf.STRING_FORMAT_BODIES.get(rule.field.format)
    claimed = rows if body is None else rows & match(text, body)
    store.put_text(text, claimed)
    return claimed, no_kind(len(rows))


def fast_boolean(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: Store, hints: dict):
    true = mask(pc.equal(text, "true"))
    false = mask(pc.equal(text, "false"))
    claimed = rows & (true | false)
    store.put_many(claimed, true[claimed])
    return claimed, no_kind(len(rows))
