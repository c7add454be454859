"""Long-running commands log JSON Lines at LADING_LOG_LEVEL."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.logging_setup import configure_logging
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import Settings


def _queue_a_job(home) -> str:
    lading = bootstrap(Settings(home=home))
    lading.objects.catalog.add("default", "profiles", TableSchema.from_dict(profiles_object()["schema"]))
    job_id, _ = lading.jobs.create_job("default", "profiles", rows=[{"id": 1, "email": "a@example.com"}])
    lading.jobs.map("default", job_id, {})
    lading.jobs.start("default", job_id)
    lading.close()
    return str(job_id)


def _worker_once(home, level: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LADING_HOME": str(home), "LADING_LOG_LEVEL": level}
    for key in ("LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_BLOBS"):
        env.pop(key, None)
    return subprocess.run([sys.executable, "-m", "lading.entrypoints.cli", "worker", "--once"],
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_worker_logs_each_processed_job_as_a_json_line(tmp_path):
    job_id = _queue_a_job(tmp_path / "home")
    done = _worker_once(tmp_path / "home", "info")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    processed = [line for line in lines if line["message"] == "job processed"]
    assert processed == [{**processed[0], "jobId": job_id, "state": "completed", "level": "INFO",
                          "logger": "lading.worker"}]
    assert processed[0]["time"].endswith("Z")


def test_a_higher_log_level_leaves_the_info_lines_out(tmp_path):
    _queue_a_job(tmp_path / "home")
    done = _worker_once(tmp_path / "home", "warning")
    assert done.returncode == 0 and done.stderr.strip() == ""


def test_an_exception_is_logged_with_its_traceback_inside_the_json_line():
    out = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", out)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("lading.http").exception("failed", extra={"correlationId": "c1"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = json.loads(out.getvalue())
    assert (line["level"], line["message"], line["correlationId"]) == ("ERROR", "failed", "c1")
    assert "ValueError: boom" in line["exception"]
