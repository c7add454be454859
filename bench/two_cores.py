"""What two busy processes get done on this machine now, against one: `make bench-scale`'s
reference for its two-worker speed-up (ADR 0136).

Each process parses the first 16 MiB of the benchmark's source with pyarrow's CSV reader, on one
thread, for a few seconds: work that allocates as it goes, as a worker's reading and validation
do. The processes begin at one instant, so the two measured together overlap throughout.
How near this comes to 2.0x moves with the machine's other load (1.86-2.24x in ADR 0136).

    python -m bench.two_cores path/to/source.csv
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

_BYTES = 16 << 20
_SECONDS = 3.0  # each measurement's length, begun by all processes at one agreed instant


def _parses(path: str, begin: float) -> float:
    """Parses of the file's head done per second, from `begin` (or this process's late start)
    to `begin` + _SECONDS."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    data = Path(path).read_bytes()[:_BYTES]
    data = data[:data.rfind(b"\n") + 1]
    options = (pacsv.ReadOptions(use_threads=False), pacsv.ParseOptions(newlines_in_values=True),
               pacsv.ConvertOptions(default_column_type=pa.string()))
    time.sleep(max(0.0, begin - time.time()))
    started = time.time()  # later than `begin` only if this process came up late
    end = begin + _SECONDS
    done = 0.0
    while (now := time.time()) < end:
        pacsv.read_csv(pa.BufferReader(data), *options)
        took = time.time() - now
        done += min(1.0, (end - now) / took)  # the last parse counts for its share inside
    return done / max(end - started, 1e-9)


def _warm(_: int) -> None:
    import pyarrow.csv  # noqa: F401


def two_process_gain(path: Path) -> float:
    """How much more two processes parse at once than one alone (2.0: twice as much)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, whatever this one holds
    with context.Pool(2) as pool:
        pool.map(_warm, [1, 2], chunksize=1)  # both up, pyarrow loaded, before any clock starts
        alone = pool.apply(_parses, (str(path), time.time() + 1.0))
        together = pool.starmap(_parses, [(str(path), time.time() + 1.0)] * 2, chunksize=1)
    return sum(together) / alone


if __name__ == "__main__":
    print(f"two processes at once do {two_process_gain(Path(sys.argv[1])):.2f}x the work of one")
