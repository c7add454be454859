"""Out of disk space is an operating condition with its own code, not a bug (issue 9.5)."""

from __future__ import annotations

import errno
import os

STORAGE_FULL = "STORAGE_FULL"
_FULL = {errno.ENOSPC, errno.EDQUOT}
_NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device"


def is_storage_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or an exception it was raised from, is a write that found no space."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and (exc.errno in _FULL or _NO_SPACE in str(exc)):
            return True  # pyarrow's OSError carries the errno only in its message
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
