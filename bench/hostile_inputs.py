"""`make bench-hostile`: how fast the readers get through input built to slow them down.

    python -m bench.hostile_inputs [--mib N]

Prints MB/s of the UTF-8 sanitiser (text_stream.Utf8Stream) on N MiB of: only invalid bytes
(0xFF lines), invalid bytes alternating with ASCII (one bad run per two bytes, the worst case
for anything that works per run), and clean multi-byte text (the fast path).
"""

from __future__ import annotations

import argparse
import io
import time

from lading.adapters.readers.text_stream import Utf8Stream

_CASES = {
    "0xFF lines": b"\xff" * 99 + b"\n",
    "0xFF alternating with 'a'": b"\xffa" * 50,
    "valid UTF-8 (é€😀)": ("é€😀" * 11 + "\n").encode(),
}


def measure(unit: bytes, mib: int) -> float:
    data = unit * (mib * (1 << 20) // len(unit))
    stream = Utf8Stream(io.BytesIO(data), "utf-8", skip_bom=False)
    started = time.perf_counter()
    while stream.read(1 << 20):
        pass
    return len(data) / (time.perf_counter() - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    for name, unit in _CASES.items():
        print(f"sanitise {name:28} {measure(unit, args.mib):8.1f} MB/s")


if __name__ == "__main__":
    main()
