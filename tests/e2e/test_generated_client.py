"""A client generated from /schema/openapi.json (openapi-python-client, as a user would run it)
drives a real `lading serve`: create a job, upload the file to its signed slot, map, start, read
the status. The document is client-ready when the generator needs no hand edits and warns of
nothing it would leave out."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

CSV = (b"id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"
       b"1,ann@example.com,Ann,Lee,US,2020-01-01T00:00:00Z,1990-01-01,1.50,true,free,\n"
       b"2,not-an-email,Bo,Ng,US,2020-01-02T00:00:00Z,1990-01-02,2.50,true,pro,\n")

# The generator has no text/csv or JSON Lines body type of its own: both are bytes to it.
CONFIG = "content_type_overrides:\n  text/csv: application/octet-stream\n  application/jsonl: application/octet-stream\npost_hooks: []\n"


def generate_client(server_url: str, into: Path) -> str:
    (into / "openapi.json").write_bytes(httpx.get(f"{server_url}/schema/openapi.json").content)
    (into / "config.yaml").write_text(CONFIG)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate",
         "--path", "openapi.json", "--config", "config.yaml", "--meta", "none",
         "--output-path", "lading_client"],
        cwd=into, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_a_generated_client_uploads_a_file_and_reads_the_job_status(server, tmp_path, monkeypatch):
    output = generate_client(server.url, tmp_path)
    assert "WARNING" not in output and "Unable to" not in output, output
    monkeypatch.syspath_prepend(str(tmp_path))
    api = importlib.import_module("lading_client")
    from lading_client.api.import_jobs import (
        create_import_job,
        get_import_job,
        map_import_job,
        start_import_job,
    )
    from lading_client.api.signed_ur_ls import upload_file
    from lading_client.models import CreateJob, MappingRequest
    from lading_client.types import File

    key = server.key("acme")
    with api.AuthenticatedClient(base_url=server.url, token=key) as client:
        created = create_import_job.sync(client=client, body=CreateJob(
            object_name="profiles", file_name="people.csv", file_size=len(CSV)))
        slot = created.data
        query = {k: v[0] for k, v in parse_qs(urlsplit(slot.upload_url).query).items()}
        uploaded = upload_file.sync(slot.job_id, client=client, body=File(payload=io.BytesIO(CSV)),
                                    **query)
        assert uploaded.data.file_size == len(CSV)
        assert map_import_job.sync(slot.job_id, client=client, body=MappingRequest()).data.plan_version == 1
        start_import_job.sync(slot.job_id, client=client)
        deadline = time.monotonic() + 60
        status = get_import_job.sync(slot.job_id, client=client).data
        while status.state not in ("completed", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
            status = get_import_job.sync(slot.job_id, client=client).data
    assert (status.state, status.read_rows, status.valid_rows, status.invalid_rows) == ("completed", 2, 1, 1)
    assert status.error_summary.to_dict() == {"VALIDATION_TYPE_MISMATCH": 1}
