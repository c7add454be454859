"""Cancelling a job while the worker is opening its source ends the run quietly (issue 9.4): the
worker does not raise "cannot fail a job that is cancelled", and no crash is recorded."""

from __future__ import annotations

import contextlib
import os
import threading
import time

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv


def test_a_job_cancelled_while_its_unreadable_source_is_opened_stays_cancelled(tmp_path, caplog):
    app = bootstrap(Settings(home=tmp_path / "home"))
    app.objects.catalog.add("acme", "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    path = write_csv(tmp_path / "c.csv", ["id", "email"], [["1", "a@x.org"]])
    job_id, _ = app.jobs.submit_path("acme", "contacts", path, {})
    # The stored source becomes a pipe: opening it blocks until we write, so the cancel lands
    # exactly while the worker is opening the source.
    blob = app.jobs.blobs.local_path(app.jobs.load(job_id).file["blobKey"])
    blob.unlink()
    os.mkfifo(blob)
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["state"] = app.runner.process(job_id)
        except Exception as exc:  # the old worker died here
            outcome["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)  # not a table: opening it fails
    opened = 0
    while worker.is_alive():  # serve each time the worker opens the source, however often
        try:
            fd = os.open(blob, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO until a reader has it open
        except OSError:
            time.sleep(0.01)
            continue
        opened += 1
        if opened == 2:  # its first look is done: the cancel lands while it opens the source
            app.jobs.cancel("acme", job_id)
        with contextlib.suppress(BrokenPipeError), os.fdopen(fd, "wb") as pipe:
            pipe.write(png[:2] if opened == 1 else png)  # a reader that only peeks may be gone
    worker.join(30)

    assert outcome == {"state": "cancelled"}
    assert app.jobs.status("acme", job_id)["state"] == "cancelled"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # not even a contained crash
    assert "ProcessingCrashed" not in [e["type"] for e in app.jobs.history("acme", job_id)]
    app.close()
