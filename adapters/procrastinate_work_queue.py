"""The work queue on PostgreSQL with procrastinate (ADR 0054): starting a job defers a task;
workers are procrastinate workers, woken by LISTEN/NOTIFY, with procrastinate's retries, locks
and stalled-job recovery.

The right to work on a job stays the session advisory lock of PostgresLockWorkQueue (exact, and
released the instant its holder dies): a procrastinate task only says "look at this job", so a
task that runs twice, late, or after `lading worker --once` already finished the job is a no-op.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status

from lading.adapters.postgres_lock_work_queue import PostgresLockWorkQueue

QUEUE = "lading-jobs"
PROCESS_TASK = "lading.process_job"
HELP_TASK = "lading.help_job"  # work on chunks of a job another worker runs (ADR 0055)
RECOVER_TASK = "lading.recover_stalled_jobs"
# A worker beats every HEARTBEAT seconds; one silent for STALLED seconds is dead (kill -9, lost
# machine) and its running tasks are retried by the periodic recovery task below.
HEARTBEAT_SECONDS = 2.0
STALLED_SECONDS = 10.0
RECOVERY_CRON = "* * * * * */5"  # every 5 seconds (croniter's sixth field)
BUSY_RETRY_SECONDS = 2  # another live process holds the job: look again this much later
_SCHEMA_LOCK = 0x4C53  # "LS": one process applies procrastinate's schema, the others wait

log = logging.getLogger("lading.worker")


class ProcrastinateWorkQueue(PostgresLockWorkQueue):
    def __init__(self, url: str, runnable: Callable[[], list[str]]) -> None:
        super().__init__(url, runnable)
        ensure_procrastinate_schema(url)
        self.app = App(connector=PsycopgConnector(conninfo=url, min_size=1, max_size=4))
        self._opened = False
        self._open_lock = threading.Lock()

    def _sync_app(self) -> App:
        with self._open_lock:
            if not self._opened:
                self.app.open()
                self._opened = True
        return self.app

    def enqueue(self, job_id: UUID, *, delay_seconds: int | None = None) -> None:
        """Defer the job's task; one already waiting for the job is enough (queueing lock)."""
        task = self._sync_app().configure_task(
            PROCESS_TASK, queue=QUEUE, lock=str(job_id), queueing_lock=str(job_id),
            schedule_in={"seconds": delay_seconds} if delay_seconds else None)
        try:
            task.defer(job_id=str(job_id))
        except AlreadyEnqueued:
            pass
        super().enqueue(job_id)

    def request_help(self, job_id: UUID, helpers: int) -> None:
        """Defer `helpers` help tasks; each ends at once when the job has no free chunk left."""
        task = self._sync_app().configure_task(HELP_TASK, queue=QUEUE)
        for _ in range(helpers):
            task.defer(job_id=str(job_id))

    def close(self) -> None:
        with self._open_lock:
            if self._opened:
                self.app.close()
                self._opened = False

    def run_worker(self, jobs: Any, *, concurrency: int = 1, poll_seconds: float = 1.0) -> None:  # jobs: a JobRunner
        """Run a procrastinate worker over `jobs` (a JobRunner) until SIGINT/SIGTERM.

        At start it defers a task for every runnable job (one queued before this queue existed,
        or left running by a process that was not a procrastinate worker); the queueing lock
        keeps that from doubling the tasks already waiting."""
        app = App(connector=PsycopgConnector(conninfo=self.url, min_size=1, max_size=concurrency + 3))
        queue = self

        @app.task(name=PROCESS_TASK, queue=QUEUE, pass_context=False,
                  retry=RetryStrategy(max_attempts=10, exponential_wait=2))
        def process_job(job_id: str) -> None:
            job = UUID(job_id)
            state = jobs.process(job)
            log.info("job processed" if state else "job busy elsewhere",
                     extra={"jobId": job_id, "state": state})
            if state is None and job in jobs.runnable_jobs():
                # Held by another live process (or its exclusive workspace runs another job):
                # look again shortly rather than hold this worker waiting.
                queue.enqueue(job, delay_seconds=BUSY_RETRY_SECONDS)

        @app.task(name=HELP_TASK, queue=QUEUE, pass_context=False)
        def help_job(job_id: str) -> None:
            jobs.help(UUID(job_id))

        @app.periodic(cron=RECOVERY_CRON, periodic_id="lading.deliver_callbacks")
        @app.task(name="lading.deliver_callbacks", queue=QUEUE, queueing_lock="lading.deliver_callbacks",
                  pass_context=False)
        def deliver_callbacks(timestamp: int) -> None:
            jobs.deliver_callbacks()  # cancelled jobs, and calls a dead process never made

        @app.periodic(cron=RECOVERY_CRON, periodic_id=RECOVER_TASK)
        @app.task(name=RECOVER_TASK, queue=QUEUE, queueing_lock=RECOVER_TASK, pass_context=False)
        async def recover_stalled_jobs(timestamp: int) -> None:
            for stalled in await app.job_manager.get_stalled_jobs(
                    queue=QUEUE, task_name=PROCESS_TASK, seconds_since_heartbeat=STALLED_SECONDS):
                log.warning("retrying a job a dead worker held",
                            extra={"task": stalled.id, "jobId": stalled.task_kwargs.get("job_id")})
                try:
                    await app.job_manager.retry_job(stalled)
                except UniqueViolation:
                    # Another task for the job already waits (deferred at a worker's start); it
                    # does the work once this one, which holds the job's lock, is ended.
                    await app.job_manager.finish_job(stalled, status=Status.FAILED, delete_job=False)

        for job in jobs.runnable_jobs():
            self.enqueue(job)
        app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=True,
                       fetch_job_polling_interval=poll_seconds, listen_notify=True,
                       update_heartbeat_interval=HEARTBEAT_SECONDS,
                       stalled_worker_timeout=STALLED_SECONDS)


def ensure_procrastinate_schema(url: str) -> None:
    """Apply procrastinate's schema once per database (it is not idempotent), under a lock so
    nodes starting together do not race."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            present = conn.execute("select to_regclass('procrastinate_jobs')").fetchone()[0]
            if present is None:
                schema_app = App(connector=PsycopgConnector(conninfo=url, min_size=1, max_size=1))
                with schema_app.open():
                    schema_app.schema_manager.apply_schema()
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def task_rows(url: str) -> list[dict[str, Any]]:
    """The queue's tasks, oldest first (for operators and tests)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select id, task_name, status, lock, queueing_lock, args, attempts"
            " from procrastinate_jobs order by id").fetchall()
    keys = ("id", "task", "status", "lock", "queueing_lock", "args", "attempts")
    return [dict(zip(keys, row)) for row in rows]
