"""`make run`: a ready-to-try Lading — the demo `profiles` object, a key, a sample file with a
few bad rows, a copy-paste curl walk-through of the whole flow — then the API itself.

Runs on the embedded default (SQLite and files under LADING_HOME, ./var unless set). Running
it again reuses the object and the key it made the first time.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from lading.entrypoints.bootstrap import Lading, bootstrap
from lading.entrypoints.samples import SAMPLES, profiles_object
from lading.entrypoints.cli_support import stops_quietly_on_ctrl_c
from lading.entrypoints.settings import ConfigError, Settings, load_settings

WORKSPACE = "default"
SAMPLE = SAMPLES / "profiles_sample.csv"


def _demo_key(lading: Lading) -> str:
    """The key made on the first run (kept under LADING_HOME, mode 0600), or a new one."""
    path = lading.settings.home / "demo-key"
    if path.exists():
        key = path.read_text().strip()
        if lading.keys.verify(key) is not None:
            return key
        path.unlink()
    key = lading.keys.create(WORKSPACE, frozenset({"imports:read", "imports:write", "admin"}))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def prepare(settings: Settings) -> tuple[str, Path]:
    """Register the demo object, make (or reuse) the demo key, write the sample; return both."""
    lading = bootstrap(settings)
    try:
        descriptor = profiles_object()
        lading.objects.add_object(WORKSPACE, descriptor["name"], descriptor["schema"])
        key = _demo_key(lading)
    finally:
        lading.close()
    sample = settings.home / SAMPLE.name
    shutil.copyfile(SAMPLE, sample)
    return key, sample


def walkthrough(api: str, key: str, sample: Path) -> str:
    """A bash script of the whole flow; every line can be pasted into a terminal."""
    return f"""\
export API={api}
export KEY={key}
export FILE={sample}

# 1. create a job: the answer holds a signed upload URL
curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
  -d "{{\\"objectName\\": \\"profiles\\", \\"fileName\\": \\"profiles_sample.csv\\", \\"fileSize\\": $(wc -c < "$FILE")}}" \\
  "$API/v1/import-jobs" > /tmp/lading-job.json
JOB=$(python3 -c 'import json; print(json.load(open("/tmp/lading-job.json"))["data"]["jobId"])')
UPLOAD=$(python3 -c 'import json; print(json.load(open("/tmp/lading-job.json"))["data"]["uploadUrl"])')

# 2. upload the file to the signed URL (no key needed: the URL carries its own signature)
curl -s -T "$FILE" "$UPLOAD"; echo

# 3. map columns to fields (same names here) and 4. start
curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
  -d '{{"importMode": "balanced", "operation": "upsert"}}' "$API/v1/import-jobs/$JOB/mapping"; echo
curl -s -X POST -H "Authorization: Bearer $KEY" "$API/v1/import-jobs/$JOB/start"; echo

# 5. poll until it is done
until curl -s -H "Authorization: Bearer $KEY" "$API/v1/import-jobs/$JOB" | grep -qE '"state":"(completed|failed|needs_attention)"'; do sleep 0.5; done
curl -s -H "Authorization: Bearer $KEY" "$API/v1/import-jobs/$JOB"; echo

# 6. the rejected rows: a signed, expiring link to the error file (JSON Lines)
ERRORS=$(curl -s -H "Authorization: Bearer $KEY" "$API/v1/import-jobs/$JOB/errors" \\
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["errorFileUrl"])')
curl -s "$ERRORS"

# 7. the valid rows as CSV, and the job's history
curl -s -H "Authorization: Bearer $KEY" "$API/v1/import-jobs/$JOB/valid-rows.csv"
curl -s -H "Authorization: Bearer $KEY" "$API/v1/import-jobs/$JOB/events"; echo
"""


def main() -> None:
    try:
        with stops_quietly_on_ctrl_c():
            _run()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


def _run() -> None:
    from lading.entrypoints.http.server import listening_socket, serve

    settings = load_settings()
    sock = listening_socket(settings.host, settings.port)  # a busy port is refused before the tour
    key, sample = prepare(settings)
    api = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    print(f"""
Lading is starting on {api} (data under {settings.home.resolve()}).
API docs: {api}/schema    Demo key (workspace '{WORKSPACE}', all scopes): {key}
Console:  {api}/console   (sign in with the demo key above)

Try the whole flow — paste this into another terminal:
----------------------------------------------------------------------------------------
{walkthrough(api, key, sample.resolve())}----------------------------------------------------------------------------------------
""", flush=True)
    serve(settings, None, None, sock=sock)


if __name__ == "__main__":
    sys.exit(main())
