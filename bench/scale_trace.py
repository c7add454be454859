"""Where a `make bench-scale` run waits: what PostgreSQL's sessions wait on, how busy each
worker, the database server and the machine were, and the workers' own account of their
steps (the "split job …" log lines of application/chunk_tasks).

    with RunTrace(url, worker_pids) as trace:
        ...                                   # the job runs
    print(trace.report(worker_logs))

Sampled every 0.1 s from pg_stat_activity and /proc: a session counted `active` is running a
statement (or waiting inside one: `Lock:…` is a row or advisory lock, `LWLock:…` a buffer or
WAL lock, `IO:…` the disk); CPU seconds come from /proc/<pid>/stat of the worker processes and
of the sessions' server processes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from types import TracebackType

import psycopg

_TICK = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.1


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of a process (all its threads), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


class RunTrace:
    def __init__(self, url: str, workers: list[int]) -> None:
        self.url = url
        self.workers = workers
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self.backend_cpu: dict[int, tuple[float, float]] = {}  # pid -> (first, last) seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RunTrace:
        self.began = time.monotonic()
        self.machine_began = machine_busy()
        self.worker_began = {pid: cpu_seconds(pid) or 0.0 for pid in self.workers}
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.seconds = time.monotonic() - self.began
        busy, total = machine_busy()
        self.machine = (busy - self.machine_began[0], total - self.machine_began[1])
        self.worker_cpu = {pid: (cpu_seconds(pid) or 0.0) - began
                           for pid, began in self.worker_began.items()}

    def _sample(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(SAMPLE_SECONDS):
                rows = conn.execute(
                    "select pid, state, wait_event_type, wait_event, left(query, 48)"
                    " from pg_stat_activity"
                    " where datname = current_database() and pid <> pg_backend_pid()"
                    " and backend_type = 'client backend'").fetchall()
                self.samples += 1
                for pid, state, wait_type, wait, query in rows:
                    if state == "active":
                        # A lock wait names the statement that waits: what the lock serialises.
                        at = f" ({' '.join(query.split())}…)" if wait_type == "Lock" else ""
                        self.waits[f"{wait_type}:{wait}{at}" if wait_type else "active on CPU"] += 1
                    elif state == "idle in transaction":
                        self.waits["idle in transaction (the client works)"] += 1
                    used = cpu_seconds(pid)
                    if used is not None:
                        first = self.backend_cpu.get(pid, (used, used))[0]
                        self.backend_cpu[pid] = (first, used)

    def report(self, logs: list[Path]) -> str:
        busy, total = self.machine
        lines = [f"    machine busy {busy / total:5.0%} of {total / self.seconds:.1f} cores;"
                 f" workers' CPU {', '.join(f'{c:.1f}' for c in self.worker_cpu.values())} s;"
                 f" database sessions' CPU"
                 f" {sum(last - first for first, last in self.backend_cpu.values()):.1f} s"]
        if self.samples:
            waits = ", ".join(f"{name} {n / self.samples:.2f}"
                              for name, n in self.waits.most_common(6))
            lines.append(f"    database sessions on average: {waits}")
        for n, log in enumerate(logs):
            for entry in _steps(log):
                lines.append(f"    worker {n} {entry}")
        return "\n".join(lines)


def _steps(log: Path) -> list[str]:
    steps = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("message", "")
        if not message.startswith("split job "):
            continue
        times = {k: entry[k] for k in ("readSeconds", "validateSeconds", "settleSeconds",
                                       "mergeSeconds", "seconds") if k in entry}
        steps.append(f"{message[10:]:<9} {times} busy {entry.get('secondsBy')}"
                     f" units {entry.get('unitsBy')}")
    return steps
