"""callbackUrl: when a job ends, its final status is POSTed (signed) to the URL, once, and the
outcome is part of the job's history, against a real local HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lading.adapters.http_callback_sender import HttpCallbackSender
from lading.domain.errors import DomainError
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv

WS = "acme"
HEADER = ["id", "email", "zip", "born", "tier"]


class Receiver:
    """A loopback HTTP server answering with the queued status codes (then 204)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict, dict]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), json.loads(body)))
                receiver.bodies.append(body)
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.bodies: list[bytes] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/lading"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def lading(tmp_path):
    app = bootstrap(Settings(home=tmp_path / "home", secret="s3cret", callback_allow_private=True))
    app.runner.callbacks = HttpCallbackSender("s3cret", backoff_seconds=0.01, allow_private=True)
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    yield app
    app.close()


def created(lading, path: Path, url: str):
    jobs = lading.jobs
    job_id, _ = jobs.create_job(WS, "contacts", path.name, path.stat().st_size, callback_url=url)
    jobs.attach_file(WS, job_id, path)
    jobs.map(WS, job_id, {})
    return job_id


def rows(tmp_path) -> Path:
    return write_csv(tmp_path / "a.csv", HEADER, [["1", "a@example.com", "01234", "2001-02-03", "free"],
                                                  ["2", "broken", "01234", "2001-02-03", "free"]])


def test_a_completed_job_posts_its_final_status_once_signed(lading, receiver, tmp_path):
    job_id = created(lading, rows(tmp_path), receiver.url)
    lading.jobs.start(WS, job_id)
    assert lading.runner.process(job_id) == "completed"
    lading.runner.wait_for_callbacks()
    assert lading.runner.deliver_callbacks() == 0, "already called"
    [(headers, body)] = receiver.calls
    assert body["jobId"] == str(job_id) and body["state"] == "completed"
    assert (body["validRows"], body["invalidRows"]) == (1, 1)
    expected = hmac.new(b"s3cret", receiver.bodies[0], hashlib.sha256).hexdigest()
    assert headers["X-Lading-Signature"] == f"sha256={expected}"
    status = lading.jobs.status(WS, job_id)
    assert status["callback"] == {"url": receiver.url, "state": "delivered", "attempts": 1, "detail": "204"}
    assert [e["type"] for e in lading.jobs.history(WS, job_id)][-1] == "CallbackDelivered"


def test_a_failing_receiver_is_retried_then_the_failure_is_recorded(lading, receiver, tmp_path):
    receiver.answers = [503, 503, 503]
    job_id = created(lading, rows(tmp_path), receiver.url)
    lading.jobs.start(WS, job_id)
    lading.runner.process(job_id)
    lading.runner.wait_for_callbacks()
    assert len(receiver.calls) == 3
    callback = lading.jobs.status(WS, job_id)["callback"]
    assert (callback["state"], callback["attempts"], callback["detail"]) == ("failed", 3, "503")


def test_a_receiver_answering_after_a_retry_counts_as_delivered(lading, receiver, tmp_path):
    receiver.answers = [500, 200]
    job_id = created(lading, rows(tmp_path), receiver.url)
    lading.jobs.start(WS, job_id)
    lading.runner.process(job_id)
    lading.runner.wait_for_callbacks()
    assert lading.jobs.status(WS, job_id)["callback"]["state"] == "delivered"
    assert lading.jobs.status(WS, job_id)["callback"]["attempts"] == 2


def test_a_cancelled_job_is_called_back_by_the_next_worker_look(lading, receiver, tmp_path):
    job_id = created(lading, rows(tmp_path), receiver.url)
    lading.jobs.cancel(WS, job_id)
    assert receiver.calls == []
    assert lading.runner.deliver_callbacks() == 1
    assert receiver.calls[0][1]["state"] == "cancelled"


def test_a_call_a_dead_process_never_made_is_made_after_restart(tmp_path, receiver):
    home = tmp_path / "home"
    first = bootstrap(Settings(home=home, secret="x", callback_allow_private=True))
    first.runner.callbacks = None  # this process "dies" before calling back
    first.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    job_id = created(first, rows(tmp_path), receiver.url)
    first.jobs.start(WS, job_id)
    first.runner.process(job_id)
    assert first.jobs.status(WS, job_id)["callback"]["state"] == "pending"
    first.close()
    restarted = bootstrap(Settings(home=home, secret="x", callback_allow_private=True))
    try:
        assert restarted.runner.deliver_callbacks() == 1
        assert receiver.calls[0][1]["state"] == "completed"
        assert restarted.jobs.status(WS, job_id)["callback"]["state"] == "delivered"
    finally:
        restarted.close()


def test_a_callback_url_must_be_absolute_http(lading):
    for bad in ("ftp://example.com/x", "/relative", "http://"):
        with pytest.raises(DomainError):
            lading.jobs.create_job(WS, "contacts", "a.csv", 1, callback_url=bad)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/x",
                                 "http://169.254.169.254/latest/meta-data", "http://10.0.0.5/x",
                                 "http://192.168.1.1/x", "http://[::ffff:127.0.0.1]/x",
                                 "http://0.0.0.0/x"])
def test_a_callback_url_naming_a_private_or_local_address_is_refused(tmp_path, url):
    app = bootstrap(Settings(home=tmp_path / "home"))
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    try:
        with pytest.raises(DomainError, match="callbackUrl"):
            app.jobs.create_job(WS, "contacts", "a.csv", 1, callback_url=url)
    finally:
        app.close()


def test_the_sender_refuses_a_name_that_resolves_to_a_private_address(receiver):
    # `localhost.` passes no literal check at creation in some spellings; the sender resolves.
    outcome = HttpCallbackSender("s").send(receiver.url.replace("127.0.0.1", "localhost"), {})
    assert not outcome.delivered and outcome.attempts == 0 and "local" in outcome.detail
    assert receiver.calls == []


def test_a_receiver_that_never_answers_does_not_hold_the_next_job(lading, tmp_path):
    import socket

    silent = socket.socket()  # accepts connections (the backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        first = created(lading, rows(tmp_path), url)
        second = created(lading, rows(tmp_path), url)
        lading.jobs.start(WS, first)
        lading.jobs.start(WS, second)
        assert lading.runner.process(first) == "completed"
        assert lading.runner.process(second) == "completed"
        # The second job ran while the first one's call was still waiting for an answer.
        assert lading.jobs.status(WS, first)["callback"]["state"] == "pending"
    finally:
        silent.close()
