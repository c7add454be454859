"""`make bench-hostile`: how fast the readers get through input built to slow them down.

    python -m bench.hostile_inputs [--mib N]

Prints MB/s of the UTF-8 sanitiser (text_stream.Utf8Stream) on N MiB of: only invalid bytes
(0xFF lines), invalid bytes alternating with ASCII (one bad run per two bytes, the worst case
for anything that works per run), and clean multi-byte text (the fast path). Then how long
opening takes, and how much the process grows, for a CSV whose header has 100,000 columns
(refused: TOO_MANY_COLUMNS) and one whose first data row is 32 MiB (read).
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
from pathlib import Path

from lading.adapters.readers import open_source
from lading.adapters.readers.text_stream import Utf8Stream
from lading.domain.errors import SourceUnreadable

_CASES = {
    "0xFF lines": b"\xff" * 99 + b"\n",
    "0xFF alternating with 'a'": b"\xffa" * 50,
    "valid UTF-8 (é€😀)": ("é€😀" * 11 + "\n").encode(),
}


def measure(unit: bytes, mib: int) -> tuple[float, float]:
    """(MB/s of wall time, MB/s of this process's CPU time): on a shared machine the second
    is the one that says what the code costs."""
    data = unit * (mib * (1 << 20) // len(unit))
    stream = Utf8Stream(io.BytesIO(data), "utf-8", skip_bom=False)
    wall, cpu = time.perf_counter(), time.process_time()
    while stream.read(1 << 20):
        pass
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(data) / wall / 1e6, len(data) / max(cpu, 1e-9) / 1e6


def open_csv(name: str, data: bytes) -> str:
    """Open (and for a readable file, read) a CSV; report the time, peak RSS and outcome."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "source.csv"
        path.write_bytes(data)
        started = time.perf_counter()
        try:
            source = open_source(path, path.name, Path(tmp), 4 << 20, repair_encoding=False)
            rows = sum(chunk.read_rows for chunk in source.chunks())
            source.close()
            outcome = f"read {rows} rows"
        except SourceUnreadable as exc:
            outcome = exc.failure_code
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return f"{name:38} {seconds * 1000:8.0f} ms  peak RSS {peak} MB so far  {outcome}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    for name, unit in _CASES.items():
        wall, cpu = measure(unit, args.mib)
        print(f"sanitise {name:28} {wall:8.1f} MB/s ({cpu:.1f} MB per CPU second)")
    wide = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n1\n"
    print(open_csv(f"header of 100,000 columns ({len(wide) / 1e6:.1f} MB)", wide))
    long_first = b"id,name\n1," + b"x" * (32 << 20) + b"\n2,b\n"
    print(open_csv("first data row of 32 MiB", long_first))


if __name__ == "__main__":
    main()
