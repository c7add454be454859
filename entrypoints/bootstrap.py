"""The composition root: the only place that chooses adapters, from Settings."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.adapters.arrow_memory import use_jemalloc
from lading.adapters.readers import SourceLimits
from lading.adapters.arrow_profile import add_source_columns, add_table
from lading.adapters.file_lock_work_queue import FileLockWorkQueue
from lading.adapters.filesystem_blob_store import FilesystemBlobStore
from lading.adapters.http_callback_sender import HttpCallbackSender
from lading.adapters.source_header import stored_source_columns
from lading.adapters.source_preview import stored_sample
from lading.adapters.sql_read_models import SqlReadModels
from lading.adapters.source_sample import read_sample, sample_from_bytes
from lading.adapters.sql_saved_mappings import SqlSavedMappings
from lading.adapters.sql_workspace_limits import SqlWorkspaceLimits
from lading.application.cohorts import Cohorts
from lading.application.configuration_runs import ConfigurationRuns
from lading.application.dry_runs import DryRuns
from lading.application.reverts import Reverts
from lading.application.exports import Exports
from lading.application.housekeeping import Housekeeping
from lading.application.watched_files import WatchedFiles
from lading.application.import_jobs import ImportJobs, Limits
from lading.application.job_profiles import JobProfiles
from lading.application.job_reports import JobReports
from lading.application.previews import SourcePreviews
from lading.application.chunk_tasks import ChunkTasks, SharedWorkQueue
from lading.application.job_runner import JobRunner
from lading.application.mapping_suggestions import MappingSuggestions
from lading.application.objects import Objects
from lading.application.ports import (
    ApiKeyStore,
    BlobStore,
    DestinationStore,
    ObjectCatalog,
    WorkQueue,
)
from lading.application.readiness import Readiness
from lading.application.replay import ReadModelReplay
from lading.application.saved_mappings import MappingLibrary
from lading.application.sources import Sources
from lading.application.row_results import RowResults
from lading.application.time_travel import TimeTravel
from lading.application.workspaces import Workspaces
from lading.domain.workspace_limits import WorkspaceLimits
from lading.entrypoints.settings import ConfigError, Settings, load_settings, persistent_secret


def _is_postgres(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgresql://", "postgres://"))


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    """Persistence settings for the eventsourcing library (SQLite file or PostgreSQL)."""
    url = settings.event_store
    if _is_postgres(url):
        parts = urlparse(url)
        options = parse_qs(parts.query).get("options", [""])[0]
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
        }
        if "search_path=" in options:
            env["POSTGRES_SCHEMA"] = options.split("search_path=", 1)[1].split()[0]
        return env
    path = Path(url) if url else settings.home / "events.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30"}


def blob_store(settings: Settings) -> BlobStore:
    """A directory by default; an S3-compatible bucket with LADING_BLOBS=s3://bucket/prefix."""
    if settings.s3 is None:
        return FilesystemBlobStore(settings.blob_root)
    from lading.adapters.s3_blob_store import S3BlobStore, S3Location, s3_client

    s3 = settings.s3
    client = s3_client(s3.endpoint_url, s3.region, s3.access_key_id, s3.secret_access_key)
    presign = (s3_client(s3.public_endpoint_url, s3.region, s3.access_key_id, s3.secret_access_key)
               if s3.public_endpoint_url else None)
    return S3BlobStore(S3Location.parse(s3.url), client, settings.home / "blob-cache",
                       presign_client=presign)


class _ScratchReadModels(SqlReadModels):
    """A throwaway read model store for `replay --check`, removed when closed."""

    def __init__(self) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="lading-replay-"))
        super().__init__(self._scratch / "rebuilt.sqlite")

    def close(self) -> None:
        super().close()
        shutil.rmtree(self._scratch, ignore_errors=True)


@dataclass
class Lading:
    """Everything a driving adapter needs, wired once: one application service per concern."""

    settings: Settings
    jobs: ImportJobs
    runner: JobRunner
    exports: Exports
    profiles: JobProfiles
    reports: JobReports
    objects: Objects
    housekeeping: Housekeeping
    replay: ReadModelReplay
    keys: ApiKeyStore
    secret: str
    library: MappingLibrary
    cohorts: Cohorts
    runs: ConfigurationRuns
    readiness: Readiness
    suggestions: MappingSuggestions
    previews: SourcePreviews
    watched: WatchedFiles
    workspaces: Workspaces
    time_travel: TimeTravel
    results: RowResults
    dry_runs: DryRuns
    reverts: Reverts
    _closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self.jobs.close()


def source_limits(settings: Settings) -> SourceLimits:
    return SourceLimits(max_record_bytes=settings.max_record_bytes,
                        max_columns=settings.max_columns)


def engine_for(settings: Settings) -> ArrowValidationEngine:
    options: dict[str, Any] = {"limits": source_limits(settings),
                               "error_value_chars": settings.error_value_chars}
    if settings.chunk_bytes:
        options["block_size"] = settings.chunk_bytes
    return ArrowValidationEngine(**options)


def bootstrap(settings: Settings | None = None, *, eventsourcing: dict[str, str] | None = None) -> Lading:
    """Wire Lading. `eventsourcing` overrides the event store's environment (tests use popo)."""
    settings = settings or load_settings()
    use_jemalloc()
    _require_reachable(settings)
    with ExitStack() as alone:
        # Each adapter creates its tables if they are missing; processes starting together on
        # one database (a cluster's nodes and workers) do that one at a time.
        for url in dict.fromkeys((settings.destination, settings.event_store)):
            if _is_postgres(url):
                from lading.adapters.postgres_set_up_lock import set_up_alone

                alone.enter_context(set_up_alone(url, "tables"))
        return _wired(settings, eventsourcing)


def _wired(settings: Settings, eventsourcing: dict[str, str] | None) -> Lading:
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)

    destination: DestinationStore
    catalog: ObjectCatalog
    if _is_postgres(settings.destination):
        from lading.adapters.postgres_destination import PostgresDestination
        from lading.adapters.sql_catalog import PostgresCatalog

        destination_db: str | Path = settings.destination
        destination = PostgresDestination(settings.destination)
        catalog = postgres_catalog = PostgresCatalog(settings.destination)
        keys: ApiKeyStore = postgres_catalog
        saved_mappings = SqlSavedMappings(settings.destination)
        limit_store = SqlWorkspaceLimits(settings.destination)
    else:
        from lading.adapters.sql_catalog import SqliteCatalog
        from lading.adapters.sqlite_destination import SqliteDestination, database_path

        directory = Path(settings.destination) if settings.destination else home / "destination"
        destination_db = database_path(directory)
        destination = SqliteDestination(directory)
        catalog = sqlite_catalog = SqliteCatalog(directory)
        keys = sqlite_catalog
        # Templates and configurations live beside the object catalog, in the destination's file.
        saved_mappings = SqlSavedMappings(database_path(directory))
        limit_store = SqlWorkspaceLimits(database_path(directory))  # beside the catalog, too

    if _is_postgres(settings.event_store):
        read_models = SqlReadModels(settings.event_store)
    else:
        read_models = SqlReadModels(home / "read_models.sqlite")

    queue: WorkQueue
    if _is_postgres(settings.event_store):
        # Imported here like the other PostgreSQL adapters: the embedded default never loads psycopg.
        from lading.adapters.procrastinate_work_queue import ProcrastinateWorkQueue

        queue = ProcrastinateWorkQueue(settings.event_store, read_models.active_job_ids)
    else:
        queue = FileLockWorkQueue(home / "locks", read_models.active_job_ids)

    workspaces = Workspaces(limit_store, WorkspaceLimits(
        max_active_jobs=settings.max_active_jobs, max_file_size=settings.max_file_size,
        max_rows=settings.max_rows, rate_limit=settings.rate_limit_per_minute))
    blobs = blob_store(settings)
    secret = settings.secret or persistent_secret(home)
    engine = engine_for(settings)
    jobs = ImportJobs(
        eventsourcing if eventsourcing is not None else eventsourcing_env(settings),
        catalog=catalog,
        destination=destination,
        blobs=blobs,
        queue=queue,
        read_models=read_models,
        work_root=home / "work",
        limits=Limits(max_active_jobs=settings.max_active_jobs,
                      exclusive_workspaces=settings.exclusive_workspaces,
                      max_file_size=settings.max_file_size,
                      callback_allow_private=settings.callback_allow_private),
        source_columns=partial(stored_source_columns, blobs, limits=source_limits(settings)),
        limits_of=workspaces.limits,
    )
    profiles = JobProfiles(jobs, engine, blobs, add_table, add_source_columns)
    chunk_tasks = None
    if isinstance(queue, SharedWorkQueue):
        from lading.adapters.arrow_split_validation import ArrowSplitValidation

        chunk_tasks = ChunkTasks(jobs, ArrowSplitValidation(engine), destination, queue,
                                 RowResults(jobs, engine, blobs), min_bytes=settings.split_bytes, helpers=settings.chunk_helpers)
    runner = JobRunner(jobs, engine=engine, destination=destination, blobs=blobs,
                       callbacks=HttpCallbackSender(
                           secret, allow_private=settings.callback_allow_private),
                       profile_job=profiles.profile, chunk_tasks=chunk_tasks)

    library = MappingLibrary(saved_mappings, jobs, _sources(settings))
    exports = Exports(jobs, engine, blobs)
    suggestions = MappingSuggestions(jobs, saved_mappings, sample_from_bytes, read_sample)
    return Lading(
        settings=settings,
        jobs=jobs,
        runner=runner,
        exports=exports,
        profiles=profiles,
        reports=JobReports(jobs, blobs, profiles),
        objects=Objects(catalog, destination),
        housekeeping=Housekeeping(jobs),
        replay=ReadModelReplay(jobs, _ScratchReadModels),
        keys=keys,
        secret=secret,
        # An s3:// sourceUrl is accepted when S3 is configured (LADING_BLOBS=s3://…).
        library=library,
        cohorts=Cohorts(jobs, library),
        runs=ConfigurationRuns(jobs, library, exports),
        workspaces=workspaces,
        readiness=_readiness(settings, jobs, destination_db, blobs),
        suggestions=suggestions,
        previews=SourcePreviews(jobs, partial(stored_sample, blobs, limits=source_limits(settings)),
                                suggestions),
        watched=WatchedFiles(jobs, library, runner),
        time_travel=TimeTravel(jobs),
        results=runner.results,
        dry_runs=DryRuns(jobs),
        reverts=Reverts(jobs, destination),
        _closers=[runner.close, getattr(queue, "close", lambda: None), saved_mappings.close, limit_store.close, read_models.close, getattr(destination, "close", lambda: None),
                  getattr(catalog, "close", lambda: None)],
    )


def _require_reachable(settings: Settings) -> None:
    """Refuse at once, naming the setting, when a PostgreSQL URL does not answer: the drivers
    would otherwise fail later with their own traceback, or wait out a pool's timeout."""
    from lading.adapters.reachability import sql_reachable

    for key, url in (("LADING_EVENT_STORE", settings.event_store),
                     ("LADING_DESTINATION", settings.destination)):
        if not _is_postgres(url):
            continue
        try:
            sql_reachable(url)
        except Exception as exc:  # any driver error: refused, timed out, unknown database, auth
            parts = urlparse(url)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"{key}: PostgreSQL at {parts.hostname}:{parts.port or 5432} does not"
                              f" answer ({reason})") from None


def _sources(settings: Settings) -> Sources:
    """Where configurations' sourceUrls are read: LADING_SOURCES_DIR, and S3 when configured."""
    if settings.s3 is None:
        return Sources(settings.sources_dir)
    from lading.adapters.s3_blob_store import s3_client
    from lading.adapters.s3_sources import s3_download

    s3 = settings.s3
    client = s3_client(s3.endpoint_url, s3.region, s3.access_key_id, s3.secret_access_key)
    return Sources(settings.sources_dir, s3=s3_download(client))


def _readiness(settings: Settings, jobs: ImportJobs, destination_db: str | Path,
               blobs: BlobStore) -> Readiness:
    """What `/readyz` checks: every server this node depends on, each on a fresh request."""
    from lading.adapters.reachability import redis_reachable, sql_reachable

    checks: dict[str, Any] = {
        "eventStore": jobs.recorder.max_notification_id,
        "destination": lambda: sql_reachable(destination_db),
        "blobStorage": blobs.check,
    }
    if settings.redis_url:
        redis_url = settings.redis_url
        checks["redis"] = lambda: redis_reachable(redis_url)
    return Readiness(checks)
