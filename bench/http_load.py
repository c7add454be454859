"""`make bench-http`: status polling under load while a large import runs.

A real `lading serve` (its worker in a child process) on loopback. Each run uses a fresh
LADING_HOME and the same generated file (1,000,000 rows by default):

1. quiet: the import alone (one client checks its status every 2 s);
2. polled: the same import while N concurrent clients (httpx async, one connection each)
   poll its status every --interval seconds; every poll's latency is recorded;
3. saturated (optional, --saturate): N clients polling back to back with no pause, which
   measures the server's ceiling rather than a realistic client.

The import's duration is the server's own (startedAt -> finishedAt of the job). Reported:
requests/s, p50/p99/max latency, errors, and the slowdown of the import with pollers.

    python -m bench.http_load [--rows N] [--clients 200] [--interval 1.0] [--saturate]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
GEN = ROOT.parent / "shared" / "bench" / "gen_data.py"
SAMPLE_OBJECT = ROOT / "entrypoints" / "samples" / "profiles.json"


def ensure_csv(rows: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"profiles_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(GEN), str(rows), str(path)], check=True)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LADING_HOME": str(home), "LADING_RATE_LIMIT": "0"}
        for key in ("LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_PUBLIC_URL"):
            self.env.pop(key, None)

    def cli(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "lading.entrypoints.cli", *args], env=self.env,
                              check=True, capture_output=True, text=True).stdout.strip()

    def __enter__(self) -> "Server":
        self.cli("objects", "add", str(SAMPLE_OBJECT))
        self.key = self.cli("keys", "create", "--scopes", "imports:read,imports:write")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lading.entrypoints.cli", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("lading serve did not come up")

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def submit(server: Server, path: Path) -> str:
    headers = {"Authorization": f"Bearer {server.key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
        slot = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": path.name,
                                                    "fileSize": path.stat().st_size}).json()["data"]
        with open(path, "rb") as fh:
            httpx.put(slot["uploadUrl"], content=fh, timeout=600).raise_for_status()
        client.post(f"/v1/import-jobs/{slot['jobId']}/mapping", json={}).raise_for_status()
        return slot["jobId"]


async def poller(client: httpx.AsyncClient, path: str, interval: float, stop: asyncio.Event,
                 latencies: list[float], errors: list[int], offset: float) -> None:
    await asyncio.sleep(offset)
    while not stop.is_set():
        began = time.perf_counter()
        try:
            response = await client.get(path)
            if response.status_code != 200:
                errors.append(response.status_code)
        except httpx.HTTPError:
            errors.append(-1)
        latencies.append(time.perf_counter() - began)
        if interval:
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))


async def run_import(server: Server, path: Path, clients: int, interval: float) -> dict:
    headers = {"Authorization": f"Bearer {server.key}"}
    # One client (one connection) per poller, as 200 separate programs would have. They are
    # made and connected before the import starts: building 200 clients costs CPU seconds
    # (TLS contexts) that must not be charged to the import, and one shared client with 200
    # connections measures httpx's pool contention instead of the server.
    pollers = [httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60,
                                 limits=httpx.Limits(max_connections=1)) for _ in range(clients)]
    await asyncio.gather(*(c.get("/healthz") for c in pollers))
    job_id = await asyncio.to_thread(submit, server, path)
    status_path = f"/v1/import-jobs/{job_id}"
    latencies: list[float] = []
    errors: list[int] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:
        (await client.post(f"{status_path}/start")).raise_for_status()
        began = time.perf_counter()
        tasks = [asyncio.create_task(poller(c, status_path, interval, stop, latencies, errors,
                                            offset=(i / clients) * interval if interval else 0))
                 for i, c in enumerate(pollers)]
        while True:
            status = (await client.get(status_path)).json()["data"]
            if status["state"] in ("completed", "failed", "needs_attention"):
                break
            await asyncio.sleep(2.0)
        polled_for = time.perf_counter() - began
        stop.set()
        await asyncio.gather(*tasks)
    for c in pollers:
        await c.aclose()
    latencies.sort()
    return {
        "state": status["state"],
        "rows": status["readRows"],
        "import_seconds": _ts(status["finishedAt"]) - _ts(status["startedAt"]),
        "requests": len(latencies),
        "rps": len(latencies) / polled_for if polled_for else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
        "max_ms": 1000 * latencies[-1] if latencies else None,
        "errors": len(errors),
    }


def run(path: Path, clients: int, interval: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="lading-bench-http-") as home:
        with Server(Path(home)) as server:
            return asyncio.run(run_import(server, path, clients, interval))


def describe(name: str, result: dict) -> str:
    line = f"{name:<28} import {result['import_seconds']:7.2f} s ({result['rows']:,} rows, {result['state']})"
    if result["requests"]:
        line += (f" | {result['requests']:,} polls, {result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms,"
                 f" p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms, errors {result['errors']}")
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one client's polls")
    parser.add_argument("--saturate", action="store_true", help="also poll back to back, no pause")
    args = parser.parse_args()
    path = ensure_csv(args.rows)
    print(f"file: {path.name} ({path.stat().st_size / 1e6:,.0f} MB); {args.clients} clients, "
          f"one poll every {args.interval:g} s each", flush=True)
    quiet = run(path, 0, 0)
    print(describe("quiet (no pollers)", quiet), flush=True)
    polled = run(path, args.clients, args.interval)
    print(describe(f"{args.clients} pollers", polled), flush=True)
    slowdown = polled["import_seconds"] / quiet["import_seconds"] - 1
    print(f"import slowdown with pollers: {100 * slowdown:+.1f} % (target <= +25 %); "
          f"p99 {polled['p99_ms']:.1f} ms (target < 100 ms)", flush=True)
    if args.saturate:
        saturated = run(path, args.clients, 0)
        print(describe(f"{args.clients} back-to-back", saturated), flush=True)
        print(f"import slowdown when saturated: "
              f"{100 * (saturated['import_seconds'] / quiet['import_seconds'] - 1):+.1f} %", flush=True)


if __name__ == "__main__":
    main()
