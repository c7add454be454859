"""Limits fixed by the contract (SPEC §4, §5), defined once for every entry point."""

MAX_INLINE_ROWS = 10_000  # rows a create body or a records write may carry inline
MAX_ROWS_PER_JOB = 200_000_000
DEFAULT_MAX_FILE_SIZE = 50 * 1024**3  # bytes (SPEC §5: 50 GiB)
