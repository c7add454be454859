"""Configuration (SPEC §7): environment variables, or the same keys in a TOML config file.

The file is `LADING_CONFIG` if set, else `$LADING_HOME/lading.toml` when it exists. The
environment wins over the file, so one-off overrides need no edit.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KEYS = ("LADING_HOME", "LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_BLOBS", "LADING_SECRET",
        "LADING_HOST", "LADING_PORT", "LADING_WORKSPACE", "LADING_PUBLIC_URL", "LADING_JWT_KEY",
        "LADING_JWT_ALGORITHM", "LADING_MAX_ACTIVE_JOBS", "LADING_MAX_FILE_SIZE",
        "LADING_RATE_LIMIT", "LADING_CHUNK_BYTES",
        "LADING_EXCLUSIVE_WORKSPACES", "LADING_SOURCES_DIR")


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
    max_file_size: int = 50 * 1024**3
    rate_limit_per_minute: int = 600
    chunk_bytes: int | None = None  # None: the engine's default block size
    exclusive_workspaces: frozenset[str] = frozenset()  # run one import at a time; `*`: all
    sources_dir: Path | None = None  # the only directory a configuration's sourceUrl may read

    @property
    def blob_root(self) -> Path:
        return self.blobs or self.home / "blobs"


def _is_postgres(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgresql://", "postgres://"))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    home = Path(env.get("LADING_HOME") or "./var")
    config_path = env.get("LADING_CONFIG") or str(home / "lading.toml")
    values: dict[str, str] = {}
    if Path(config_path).is_file():
        try:
            with open(config_path, "rb") as fh:
                parsed = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: {exc}") from None
        values.update({k: str(v) for k, v in parsed.items() if k in KEYS})
    values.update({k: v for k, v in env.items() if k in KEYS and v != ""})
    home = Path(values.get("LADING_HOME") or home)
    for key in ("LADING_EVENT_STORE", "LADING_DESTINATION"):
        url = values.get(key)
        if url and "://" in url and not _is_postgres(url):
            raise ConfigError(f"{key} must be a SQLite path or a postgresql:// URL, not {url!r}")
    blobs = values.get("LADING_BLOBS")
    if blobs and blobs.startswith("s3://"):
        raise ConfigError("LADING_BLOBS=s3://… is not supported yet; use a directory")
    event_store = values.get("LADING_EVENT_STORE")
    destination = values.get("LADING_DESTINATION")
    try:
        port = int(values.get("LADING_PORT", "8000"))
        max_active = int(values.get("LADING_MAX_ACTIVE_JOBS", "10"))
        max_file = int(values.get("LADING_MAX_FILE_SIZE", str(50 * 1024**3)))
        rate = int(values.get("LADING_RATE_LIMIT", "600"))
        chunk_bytes = int(values["LADING_CHUNK_BYTES"]) if values.get("LADING_CHUNK_BYTES") else None
    except ValueError as exc:
        raise ConfigError(f"a numeric setting is not a number: {exc}") from None
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
        rate_limit_per_minute=rate,
        chunk_bytes=chunk_bytes,
        sources_dir=Path(values["LADING_SOURCES_DIR"]) if values.get("LADING_SOURCES_DIR") else None,
        exclusive_workspaces=frozenset(
            w.strip() for w in values.get("LADING_EXCLUSIVE_WORKSPACES", "").split(",") if w.strip()),
    )


def persistent_secret(home: Path) -> str:
    """The URL-signing secret when LADING_SECRET is unset: made once, kept under LADING_HOME."""
    path = home / "secret"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
