"""The per-row results file survives kill -9 (SPEC §8 with §3's crash safety): a process killed
right after a chunk's part was written but before its merge committed, or right after the
merge committed but before its event was saved, then `lading worker --once`, gives exactly the
results file of an uninterrupted run: no line missing, none doubled. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.builders import PROFILES_SCHEMA, generate_profiles
from tests.e2e.cli import Lading

pytestmark = pytest.mark.slow  # two imports, a kill and a worker pass per case
CHUNK_ENV = {"LADING_CHUNK_BYTES": "32768"}  # the second file makes 9 chunks
KILLED_CHUNK = 3
# Runs one import in-process, and (with a window) SIGKILLs itself in that window of one chunk.
_IMPORT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from lading.entrypoints.bootstrap import bootstrap

    path, window, killed_chunk = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    app = bootstrap()
    runner = app.runner

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if window == "part-written":
        part_writer = runner.results.part_writer

        def dying_part_writer(job, schema, chunk):
            write = part_writer(job, schema, chunk)

            def write_then_die(outcomes):
                write(outcomes)
                if chunk == killed_chunk:
                    die()  # inside the merge's transaction: the part exists, the merge does not
            return write_then_die
        runner.results.part_writer = dying_part_writer
    elif window == "merge-committed":
        merge_chunk = runner.destination.merge_chunk

        def dying_merge(*args, **kwargs):
            counts = merge_chunk(*args, **kwargs)
            if args[5].chunk == killed_chunk:
                die()  # committed, but no ChunkMerged event yet
            return counts
        runner.destination.merge_chunk = dying_merge
    job_id, _ = app.jobs.submit_path("default", "profiles", path, {})
    print(job_id, flush=True)
    runner.process(job_id)
""")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request):
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    first, second = folder / "first.csv", folder / "second.csv"
    generate_profiles(1000, first, seed=1, invalid_rate=0.02)
    generate_profiles(1500, second, seed=2, invalid_rate=0.02)  # updates ids of the first, adds
    return first, second


@pytest.fixture(scope="module")
def reference(tmp_path_factory, files) -> tuple[list[dict], list[dict]]:
    """The results and records of the second import run without interruption (SQLite)."""
    tmp_path = tmp_path_factory.mktemp("reference")
    first, second = files
    lading = _home(tmp_path, "home", None)
    lading.run("import", str(first), "--object", "profiles")
    job_id, code = _import(lading, tmp_path, second)
    assert code == 0
    expected = _results(lading, job_id)
    assert [line["rowNumber"] for line in expected] == list(range(1, 1501))
    assert {line["outcome"] for line in expected} == {"inserted", "updated", "rejected"}
    return expected, lading.json("records", "profiles", "--json")


def _home(tmp_path, name: str, pg_url: str | None) -> Lading:
    env = dict(CHUNK_ENV)
    if pg_url:
        env.update(LADING_EVENT_STORE=pg_url, LADING_DESTINATION=pg_url)
    lading = Lading(tmp_path / name, **env)
    lading.add_object(tmp_path, "profiles", PROFILES_SCHEMA)
    return lading


def _import(lading: Lading, tmp_path, path, window: str = "none") -> tuple[str, int]:
    script = tmp_path / "import_and_maybe_die.py"
    script.write_text(_IMPORT)
    proc = lading.popen_python(str(script), str(path), window, str(KILLED_CHUNK))
    out, err = proc.communicate(timeout=300)
    return out.split()[0], proc.returncode


def _results(lading: Lading, job_id: str) -> list[dict]:
    return [json.loads(line) for line in lading.run("jobs", "results", job_id).stdout.splitlines()]


@pytest.mark.parametrize("window", ["part-written", "merge-committed"])
def test_kill_9_in_a_chunks_merge_then_worker_once_gives_the_uninterrupted_results(
        tmp_path, backend, files, reference, window):
    first, second = files
    crashed = _home(tmp_path, "crashed", backend)
    crashed.run("import", str(first), "--object", "profiles")
    job_id, code = _import(crashed, tmp_path, second, window)
    assert code == -9, "the import should have been killed"
    assert crashed.json("jobs", "show", job_id, "--json")["state"] == "running"
    crashed.run("worker", "--once")
    expected, records = reference
    assert _results(crashed, job_id) == expected  # fails unless the job completed
    assert crashed.json("records", "profiles", "--json") == records
