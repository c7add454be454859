"""domain.csv_safety over whole Arrow columns, for the CSV files written with pyarrow."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from lading.domain.csv_safety import PLAIN_NUMBER, QUOTE, TRIGGER_START


def neutralised(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Text columns with formula-looking cells quoted; columns of other types as they are."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    risky = pc.and_(pc.match_substring_regex(column, TRIGGER_START),
                    pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER)))
    quoted = pc.binary_join_element_wise(pa.scalar(QUOTE, column.type), column, "")
    return pc.if_else(risky, quoted, column)
