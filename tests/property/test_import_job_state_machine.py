"""Random command sequences against ImportJob agree with a plain model of SPEC §2's table.

The model below is written out again from the SPEC, independently of domain/lifecycle.py, so a
mistake in the aggregate's table shows up as a disagreement rather than being copied.
"""

from __future__ import annotations

import os

from eventsourcing.application import Application
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from lading.domain.errors import TransitionNotAllowed
from lading.domain.import_job import ImportJob


class _Jobs(Application):
    snapshotting_intervals = {ImportJob: 7}  # small, so replays from snapshots are exercised too


class JobModel:
    """The lifecycle as the SPEC draws it, state by state."""

    def __init__(self) -> None:
        self.state = "pending"
        self.stage: str | None = None
        self.has_file = False
        self.has_plan = False
        self.plan_version = 0
        self.validated = 0
        self.with_rows: list[int] = []
        self.merged: list[int] = []
        self.callback = "pending"  # the job is created with a callbackUrl
        self.dry_run = False
        self.reverted: list[int] = []
        self.crashes = 0

    def apply(self, command: str, **kw) -> bool:
        s = self.state
        if command == "receive_file" and s in ("pending", "ready"):
            self.has_file = True
            self.state = "ready" if self.has_plan else "pending"
        elif command == "map" and s in ("pending", "ready"):
            self.has_plan = True
            self.plan_version = 1
            self.state = "ready" if self.has_file else "pending"
        elif command == "start" and s == "ready":
            self.state = "queued"
            self.dry_run = kw["dry_run"]
        elif command == "begin_processing" and s == "queued":
            self.state, self.stage = "running", "validating"
            self.validated, self.with_rows, self.merged, self.crashes = 0, [], [], 0
        elif command == "record_validated_chunk" and s == "running" and self.stage == "validating":
            if kw["valid"]:
                self.with_rows.append(self.validated)
            self.validated += 1
        elif command == "finish_validation" and s == "running" and self.stage == "validating":
            self.stage = "merging"
        elif command == "pause_for_attention" and s == "running" and self.stage == "validating":
            self.state, self.stage = "needs_attention", None
        elif command == "approve_fix" and s == "needs_attention":
            self.state = "queued"
            self.plan_version += 1
        elif (
            command in ("record_merged_chunk", "record_diffed_chunk")
            and s == "running"
            and self.stage == "merging"
            and kw["chunk"] in self.with_rows
            and kw["chunk"] not in self.merged
            # a dry run diffs its chunks, a real run merges them (SPEC §8)
            and self.dry_run == (command == "record_diffed_chunk")
        ):
            self.merged.append(kw["chunk"])
        elif command == "start_revert" and s == "completed" and not self.dry_run:
            self.state, self.reverted, self.crashes = "reverting", [], 0
        elif (command == "record_reverted_chunk" and s == "reverting"
              and kw["chunk"] in self.merged and kw["chunk"] not in self.reverted):
            self.reverted.append(kw["chunk"])
        elif command == "finish_revert" and s == "reverting" and set(self.merged) <= set(self.reverted):
            self.state = "reverted"
        elif (
            command == "complete"
            and s == "running"
            and self.stage == "merging"
            and set(self.with_rows) <= set(self.merged)
        ):
            self.state, self.stage = "completed", None
        elif command == "fail" and s in ("queued", "running", "reverting"):
            self.state, self.stage = "failed", None
        elif command == "record_crash" and s in ("queued", "running", "reverting"):
            # the third attempt fails the job, whether it imports or reverts (ADR 0080, 0098)
            self.crashes += 1
            if self.crashes >= kw["max_attempts"]:
                self.state, self.stage = "failed", None
        elif command == "cancel" and s in ("pending", "ready", "queued", "running", "needs_attention"):
            self.state, self.stage = "cancelled", None
        elif command == "delete" and s in (
            "pending", "ready", "needs_attention", "completed", "failed", "cancelled", "reverted"
        ):
            self.state, self.stage = "deleted", None
        elif (command == "record_callback" and s in ("completed", "failed", "cancelled", "reverted")
              and self.callback == "pending"):
            self.callback = "delivered" if kw["delivered"] else "failed"
        else:
            return False
        return True


class ImportJobMachine(RuleBasedStateMachine):
    @initialize(ran=st.sampled_from(["run", "dry run", None]))
    def create(self, ran: str | None) -> None:
        os.environ["PERSISTENCE_MODULE"] = "eventsourcing.popo"
        self.app = _Jobs()
        self.job = ImportJob("ws", "profiles", "people.csv", 100, callback_url="http://hooks.test/lading")
        self.model = JobModel()
        self.app.save(self.job)
        if ran is not None:
            # Random steps rarely get a job as far as completed: some examples start there,
            # so what follows a completion (reverts above all) is explored too.
            self.receive_file()
            self.map()
            self.start(ran == "dry run")
            self.begin_processing()
            self.record_validated_chunk(3, 0)
            self.finish_validation()
            (self.record_diffed_chunk if ran == "dry run" else self.record_merged_chunk)(0)
            self.complete()
            assert self.model.state == "completed"

    def _run(self, command: str, call, **model_kw) -> None:
        before = dict(self.job.__dict__)
        allowed = self.model.apply(command, **model_kw)
        try:
            call()
        except TransitionNotAllowed as refused:
            assert not allowed, f"aggregate refused {command} in {before['state']}: {refused}"
            assert refused.command == command and str(before["state"]) in str(refused)
            said = str(refused).replace(str(before["state"]), "")
            assert "_" not in said.split(":")[0], "internal command names never reach users"
            assert self.job.__dict__ == before, "a refused command changed the job"
            return
        assert allowed, f"aggregate allowed {command} in state {before['state']}"
        self.app.save(self.job)

    @rule()
    def receive_file(self) -> None:
        self._run("receive_file", lambda: self.job.receive_file("blobs/x", 10, "ab" * 32, "x.csv"))

    @rule()
    def map(self) -> None:
        self._run("map", lambda: self.job.map({"fieldMap": {"id": "id"}}))

    @rule(dry_run=st.booleans())
    def start(self, dry_run: bool) -> None:
        self._run("start", lambda: self.job.start(dry_run), dry_run=dry_run)

    @rule()
    def begin_processing(self) -> None:
        self._run("begin_processing", self.job.begin_processing)

    @rule(read=st.integers(0, 50), rejected=st.integers(0, 50))
    def record_validated_chunk(self, read: int, rejected: int) -> None:
        rejected = min(read, rejected)
        valid = read - rejected
        counts = {"VALIDATION_TYPE_MISMATCH": rejected} if rejected else {}
        chunk = self.job.validated_chunks
        self._run(
            "record_validated_chunk",
            lambda: self.job.record_validated_chunk(chunk, read, valid, counts, {}, [0, 1] if rejected else None),
            valid=valid > 0,
        )

    @rule()
    def finish_validation(self) -> None:
        self._run("finish_validation", self.job.finish_validation)

    @rule()
    def pause_for_attention(self) -> None:
        self._run("pause_for_attention", lambda: self.job.pause_for_attention({"changes": []}))

    @rule()
    def approve_fix(self) -> None:
        self._run("approve_fix", lambda: self.job.approve_fix({"fieldMap": {"id": "id"}}))

    @rule(chunk=st.integers(0, 5))
    def record_merged_chunk(self, chunk: int) -> None:
        self._run("record_merged_chunk", lambda: self.job.record_merged_chunk(chunk, 1, 0, 0), chunk=chunk)

    @rule(chunk=st.integers(0, 5))
    def record_diffed_chunk(self, chunk: int) -> None:
        self._run("record_diffed_chunk",
                  lambda: self.job.record_diffed_chunk(chunk, 1, 0, 0, 0, {"inserted": 1}),
                  chunk=chunk)

    @rule(force=st.booleans())
    def start_revert(self, force: bool) -> None:
        self._run("start_revert", lambda: self.job.start_revert(force))

    @rule(chunk=st.integers(0, 1))
    def record_reverted_chunk(self, chunk: int) -> None:
        self._run("record_reverted_chunk", lambda: self.job.record_reverted_chunk(chunk, 1, 0),
                  chunk=chunk)

    @rule()
    def finish_revert(self) -> None:
        self._run("finish_revert", self.job.finish_revert)

    @rule()
    def complete(self) -> None:
        self._run("complete", self.job.complete)

    @rule()
    def fail(self) -> None:
        self._run("fail", lambda: self.job.fail("boom"))

    @rule()
    def record_crash(self) -> None:
        self._run("record_crash", lambda: self.job.record_crash("boom", 3), max_attempts=3)

    @rule()
    def cancel(self) -> None:
        self._run("cancel", self.job.cancel)

    @rule()
    def delete(self) -> None:
        self._run("delete", self.job.delete)

    @rule(delivered=st.booleans())
    def record_callback(self, delivered: bool) -> None:
        self._run("record_callback", lambda: self.job.record_callback(delivered, 1, "200"),
                  delivered=delivered)

    @rule()
    def read_status(self) -> None:
        """Always applicable, so a terminal state never leaves Hypothesis without a rule."""
        assert self.job.state in (
            "pending", "ready", "queued", "running", "needs_attention",
            "completed", "failed", "cancelled", "deleted", "reverting", "reverted",
        )

    @invariant()
    def states_agree(self) -> None:
        if not hasattr(self, "job"):
            return
        assert str(self.job.state) == self.model.state
        assert (str(self.job.stage) if self.job.stage else None) == self.model.stage
        assert self.job.plan_version == self.model.plan_version
        assert self.job.callback_state == self.model.callback
        assert self.job.crashes == self.model.crashes

    @invariant()
    def replay_from_stored_events_gives_an_equal_job(self) -> None:
        if not hasattr(self, "job"):
            return
        reloaded = self.app.repository.get(self.job.id)
        assert reloaded.__dict__ == self.job.__dict__

    @invariant()
    def counters_hold(self) -> None:
        if not hasattr(self, "job"):
            return
        job = self.job
        assert job.valid_rows + job.invalid_rows == job.read_rows
        assert sum(job.rejected_by_code.values()) == job.invalid_rows


ImportJobMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("LADING_TEST_STATE_MACHINE_EXAMPLES", "150")),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestImportJobStateMachine = ImportJobMachine.TestCase
