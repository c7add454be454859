"""The job lifecycle of SPEC §2 as plain data: states, stages, and which command each state allows."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    QUEUED = "queued"
    RUNNING = "running"
    NEEDS_ATTENTION = "needs_attention"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    # A completed job being undone (SPEC §8 Revert), then undone for good.
    REVERTING = "reverting"
    REVERTED = "reverted"


class Stage(StrEnum):
    VALIDATING = "validating"
    MERGING = "merging"


TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED,
                             JobState.REVERTED})
# Jobs that count against a workspace's limit of active jobs (SPEC §5); a revert is work a
# worker runs like a merge, so it counts and is picked up the same way (ADR 0094).
ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING, JobState.REVERTING})
# A job in one of these states took its file: it ran to the end, or waits for a person.
FILE_ACCEPTED_STATES = frozenset({JobState.COMPLETED, JobState.NEEDS_ATTENTION})

_S = JobState
# command -> states in which it is allowed. Anything else raises TransitionNotAllowed.
ALLOWED: dict[str, frozenset[JobState]] = {
    "receive_file": frozenset({_S.PENDING, _S.READY}),
    # A cohort's status is its client's to declare only while it holds no data (SDR agent).
    "declare_status": frozenset({_S.PENDING}),
    "map": frozenset({_S.PENDING, _S.READY}),
    "start": frozenset({_S.READY}),
    "begin_processing": frozenset({_S.QUEUED}),
    "record_validated_chunk": frozenset({_S.RUNNING}),
    "finish_validation": frozenset({_S.RUNNING}),
    "pause_for_attention": frozenset({_S.RUNNING}),
    "approve_fix": frozenset({_S.NEEDS_ATTENTION}),
    "record_merged_chunk": frozenset({_S.RUNNING}),
    "complete": frozenset({_S.RUNNING}),
    # A revert that keeps raising fails too (ADR 0098): the job must stop being picked up.
    "fail": frozenset({_S.QUEUED, _S.RUNNING, _S.REVERTING}),
    "record_crash": frozenset({_S.QUEUED, _S.RUNNING, _S.REVERTING}),
    "cancel": frozenset({_S.PENDING, _S.READY, _S.QUEUED, _S.RUNNING, _S.NEEDS_ATTENTION}),
    "delete": frozenset({_S.PENDING, _S.READY, _S.NEEDS_ATTENTION} | TERMINAL_STATES),
    "edit_metadata": frozenset(set(_S) - {_S.DELETED}),
    "record_callback": TERMINAL_STATES,
    # Retention purges ended jobs; abandoned ones are those never started.
    "purge_blobs": frozenset({_S.PENDING, _S.READY} | TERMINAL_STATES),
    "record_diffed_chunk": frozenset({_S.RUNNING}),
    "start_revert": frozenset({_S.COMPLETED}),
    "record_reverted_chunk": frozenset({_S.REVERTING}),
    "finish_revert": frozenset({_S.REVERTING}),
}

# The stage a running job must be in for a stage-bound command.
REQUIRED_STAGE: dict[str, Stage] = {
    "record_validated_chunk": Stage.VALIDATING,
    "finish_validation": Stage.VALIDATING,
    "pause_for_attention": Stage.VALIDATING,
    "record_merged_chunk": Stage.MERGING,
    "record_diffed_chunk": Stage.MERGING,
    "complete": Stage.MERGING,
}
