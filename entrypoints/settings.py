"""Configuration (SPEC §7): environment variables, or the same keys in a TOML config file.

The file is `LADING_CONFIG` if set, else `$LADING_HOME/lading.toml` when it exists. The
environment wins over the file, so one-off overrides need no edit.
"""

from __future__ import annotations

import difflib
import os
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from lading.domain.limits import DEFAULT_MAX_FILE_SIZE, MAX_ROWS_PER_JOB

_N = TypeVar("_N", int, float)

KEYS = ("LADING_HOME", "LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_BLOBS", "LADING_SECRET",
        "LADING_HOST", "LADING_PORT", "LADING_WORKSPACE", "LADING_PUBLIC_URL", "LADING_JWT_KEY",
        "LADING_JWT_ALGORITHM", "LADING_MAX_ACTIVE_JOBS", "LADING_MAX_FILE_SIZE", "LADING_MAX_ROWS",
        "LADING_RATE_LIMIT", "LADING_CHUNK_BYTES", "LADING_SPLIT_BYTES", "LADING_CHUNK_HELPERS",
        "LADING_EXCLUSIVE_WORKSPACES", "LADING_SOURCES_DIR", "LADING_S3_ENDPOINT_URL", "LADING_S3_PUBLIC_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "LADING_REDIS_URL", "LADING_LOG_LEVEL", "LADING_WORKER_CONCURRENCY",
        "LADING_MAX_RECORD_BYTES", "LADING_MAX_COLUMNS", "LADING_ERROR_VALUE_CHARS",
        "LADING_CALLBACK_ALLOW_PRIVATE", "LADING_HEADER_TIMEOUT", "LADING_BODY_IDLE_TIMEOUT",
        "LADING_MAX_CONCURRENT_UPLOADS_PER_KEY")
# LADING_CONFIG names the file, so it is read from the environment only; LADING_TEST_* are the
# test suite's own knobs, never settings.
_ENV_ONLY = ("LADING_CONFIG",)
_NOT_SETTINGS_PREFIX = "LADING_TEST_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """Configuration Lading cannot start with; the message says which key and why."""


@dataclass(frozen=True)
class Settings:
    home: Path
    event_store: str | None = None  # None: SQLite under home
    destination: str | None = None  # None: SQLite under home
    blobs: Path | None = None  # None: home/blobs
    secret: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workspace: str = "default"
    public_url: str | None = None
    jwt_key: str | None = None
    jwt_algorithm: str = "HS256"
    max_active_jobs: int = 10
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    max_rows: int = MAX_ROWS_PER_JOB  # SPEC §5: a job reading more fails with LIMIT_ROWS
    rate_limit_per_minute: int = 600
    chunk_bytes: int | None = None  # None: the engine's default block size
    exclusive_workspaces: frozenset[str] = frozenset()  # run one import at a time; `*`: all
    sources_dir: Path | None = None  # the only directory a configuration's sourceUrl may read
    s3: S3Settings | None = None  # LADING_BLOBS=s3://bucket/prefix: blobs in object storage
    redis_url: str | None = None  # shared rate limits across API nodes
    log_level: str = "INFO"
    worker_concurrency: int = 1
    split_bytes: int = 64 * 1024**2  # from this size a file's chunks are shared by workers (ADR 0055)
    chunk_helpers: int = 4  # help tasks a split job asks for per stage
    max_record_bytes: int = 64 * 1024**2  # a longer source record fails the job (ADR 0015)
    max_columns: int = 10_000  # a wider source fails the job (TOO_MANY_COLUMNS)
    error_value_chars: int = 1000  # error file values are cut beyond this many characters
    callback_allow_private: bool = False  # callbackUrl may name private/loopback hosts (ADR 0081)
    header_timeout: float = 10.0  # seconds a connection has to send a request's headers (ADR 0082)
    body_idle_timeout: float = 30.0  # longest pause between a request body's bytes (ADR 0082)
    max_concurrent_uploads_per_key: int = 4  # uploads streaming at once per key (ADR 0086)

    @property
    def blob_root(self) -> Path:
        return self.blobs or self.home / "blobs"


@dataclass(frozen=True)
class S3Settings:
    """Where blobs live in an S3-compatible store; credentials may also come from boto3's own
    chain (instance roles, ~/.aws) when not given."""

    url: str  # s3://bucket/prefix
    endpoint_url: str | None = None
    public_endpoint_url: str | None = None  # the endpoint presigned URLs name, if not the above
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None

    def __repr__(self) -> str:  # never print the secret
        return f"S3Settings(url={self.url!r}, endpoint_url={self.endpoint_url!r}, region={self.region!r})"


def _is_postgres(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgresql://", "postgres://"))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    _refuse_unknown(k for k in env if k.startswith("LADING_") and k not in KEYS + _ENV_ONLY
                    and not k.startswith(_NOT_SETTINGS_PREFIX))
    home = Path(env.get("LADING_HOME") or "./var")
    values: dict[str, str] = _file_values(env.get("LADING_CONFIG"), home)
    values.update({k: v for k, v in env.items() if k in KEYS and v != ""})
    home = Path(values.get("LADING_HOME") or home)
    for key in ("LADING_EVENT_STORE", "LADING_DESTINATION"):
        url = values.get(key)
        if url and "://" in url and not _is_postgres(url):
            raise ConfigError(f"{key} must be a SQLite path or a postgresql:// URL, not {url!r}")
    blobs = values.get("LADING_BLOBS")
    s3 = None
    if blobs and "://" in blobs:
        if not blobs.startswith("s3://") or len(blobs) <= len("s3://") or blobs[5] == "/":
            raise ConfigError(f"LADING_BLOBS must be a directory or s3://bucket[/prefix], not {blobs!r}")
        s3 = S3Settings(url=blobs, endpoint_url=values.get("LADING_S3_ENDPOINT_URL"),
                        public_endpoint_url=values.get("LADING_S3_PUBLIC_ENDPOINT_URL"),
                        region=values.get("AWS_REGION"), access_key_id=values.get("AWS_ACCESS_KEY_ID"),
                        secret_access_key=values.get("AWS_SECRET_ACCESS_KEY"))
        blobs = None
    redis_url = values.get("LADING_REDIS_URL")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"LADING_REDIS_URL must be a redis:// URL, not {redis_url!r}")
    log_level = values.get("LADING_LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LADING_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    event_store = values.get("LADING_EVENT_STORE")
    destination = values.get("LADING_DESTINATION")
    port = _number(values, "LADING_PORT", 8000)
    max_active = _number(values, "LADING_MAX_ACTIVE_JOBS", 10)
    max_file = _number(values, "LADING_MAX_FILE_SIZE", DEFAULT_MAX_FILE_SIZE)
    max_rows = _number(values, "LADING_MAX_ROWS", MAX_ROWS_PER_JOB)
    rate = _number(values, "LADING_RATE_LIMIT", 600)
    chunk_bytes = _number(values, "LADING_CHUNK_BYTES", 0) or None
    concurrency = _number(values, "LADING_WORKER_CONCURRENCY", 1)
    split_bytes = _number(values, "LADING_SPLIT_BYTES", 64 * 1024**2)
    chunk_helpers = _number(values, "LADING_CHUNK_HELPERS", 4)
    max_record = _number(values, "LADING_MAX_RECORD_BYTES", 64 * 1024**2)
    max_columns = _number(values, "LADING_MAX_COLUMNS", 10000)
    value_chars = _number(values, "LADING_ERROR_VALUE_CHARS", 1000)
    header_timeout = _number(values, "LADING_HEADER_TIMEOUT", 10.0)
    body_idle_timeout = _number(values, "LADING_BODY_IDLE_TIMEOUT", 30.0)
    concurrent_uploads = _number(values, "LADING_MAX_CONCURRENT_UPLOADS_PER_KEY", 4)
    if not 0 < port < 65536:
        raise ConfigError(f"LADING_PORT must be from 1 to 65535, not {port}")
    for key, value in (("LADING_MAX_ACTIVE_JOBS", max_active), ("LADING_MAX_FILE_SIZE", max_file),
                       ("LADING_MAX_ROWS", max_rows)):
        if value < 1:
            raise ConfigError(f"{key} must be at least 1, not {value}")
    if not 1 <= max_record <= 1024**3:
        raise ConfigError("LADING_MAX_RECORD_BYTES must be from 1 to 1073741824 (1 GiB)")
    if max_columns < 1:
        raise ConfigError("LADING_MAX_COLUMNS must be at least 1")
    if value_chars < 1:
        raise ConfigError("LADING_ERROR_VALUE_CHARS must be at least 1")
    if concurrent_uploads < 1:
        raise ConfigError("LADING_MAX_CONCURRENT_UPLOADS_PER_KEY must be at least 1")
    return Settings(
        home=home,
        event_store=event_store,
        destination=destination,
        blobs=Path(blobs) if blobs else None,
        secret=values.get("LADING_SECRET") or "",
        host=values.get("LADING_HOST", "127.0.0.1"),
        port=port,
        workspace=values.get("LADING_WORKSPACE", "default"),
        public_url=values.get("LADING_PUBLIC_URL"),
        jwt_key=values.get("LADING_JWT_KEY"),
        jwt_algorithm=values.get("LADING_JWT_ALGORITHM", "HS256"),
        max_active_jobs=max_active,
        max_file_size=max_file,
        max_rows=max_rows,
        rate_limit_per_minute=rate,
        chunk_bytes=chunk_bytes,
        sources_dir=Path(values["LADING_SOURCES_DIR"]) if values.get("LADING_SOURCES_DIR") else None,
        max_record_bytes=max_record,
        max_columns=max_columns,
        error_value_chars=value_chars,
        header_timeout=header_timeout,
        body_idle_timeout=body_idle_timeout,
        max_concurrent_uploads_per_key=concurrent_uploads,
        callback_allow_private=values.get("LADING_CALLBACK_ALLOW_PRIVATE", "").lower()
        in ("1", "true", "yes"),
        exclusive_workspaces=frozenset(
            w.strip() for w in values.get("LADING_EXCLUSIVE_WORKSPACES", "").split(",") if w.strip()),
        s3=s3,
        redis_url=redis_url,
        log_level=log_level,
        worker_concurrency=max(1, concurrency),
        split_bytes=split_bytes,
        chunk_helpers=max(0, chunk_helpers),
    )


def _file_values(named: str | None, home: Path) -> dict[str, str]:
    """The settings in the TOML file: LADING_CONFIG (which must exist), else
    $LADING_HOME/lading.toml when there is one."""
    path = Path(named) if named else home / "lading.toml"
    if named and not path.is_file():
        raise ConfigError(f"LADING_CONFIG names {named}, which is not a file")
    if not path.is_file():
        return {}
    try:
        with open(path, "rb") as fh:
            parsed = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 TOML file") from None
    _refuse_unknown((k for k in parsed if k not in KEYS), where=f"{path}: ")
    for key, value in parsed.items():
        if not isinstance(value, str | int | float | bool):
            raise ConfigError(f"{path}: {key} must be a string, number or boolean, not a "
                              f"{type(value).__name__}")
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in parsed.items()}


def _refuse_unknown(keys: Iterable[str], where: str = "") -> None:
    for key in keys:
        guess = f"LADING_{key.upper()}" if not key.upper().startswith("LADING_") else key.upper()
        close = [guess] if guess in KEYS else difflib.get_close_matches(guess, KEYS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"{where}unknown setting {key}{hint}; the settings are listed in README.md")


def _number(values: Mapping[str, str], key: str, default: _N) -> _N:
    raw = values.get(key)
    if not raw:
        return default
    kind = type(default)
    try:
        return kind(raw)
    except ValueError:
        said = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{key} must be {said}, not {raw!r}") from None


def persistent_secret(home: Path) -> str:
    """The URL-signing secret when LADING_SECRET is unset: made once, kept under LADING_HOME.

    Processes started together on a new home (a server and its workers) agree on one: each
    writes a candidate aside and links it into place, which only the first link does."""
    path = home / "secret"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    candidate = home / f".secret.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(32))
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(candidate, path)  # never a half-written file: the link shows a whole one or fails
    except FileExistsError:
        pass  # another process linked its own first; that one is the secret
    finally:
        candidate.unlink()
    return path.read_text().strip()
