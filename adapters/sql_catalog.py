"""The object catalog and the API keys, in the destination's database (SQLite or PostgreSQL).

One class serves both ports (ObjectCatalog and ApiKeyStore): they share the database and its
lifecycle, and each is a handful of statements.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from pathlib import Path

from lading.adapters.sql_connection import SqlConnection
from lading.adapters.sqlite_destination import database_path
from lading.application.ports import ApiKeyIdentity
from lading.domain.api_keys import check_scopes
from lading.domain.errors import ObjectExists
from lading.domain.object_names import check_object_name
from lading.domain.workspace_names import check_workspace_name
from lading.domain.table_schema import TableSchema
from lading.domain.timestamps import now_utc

KEY_PREFIX = "ldg"
_KEY_ID = re.compile(r"[0-9a-f]{16}")  # secrets.token_hex(8); anything else never reaches SQL

_SCHEMA = (
    """create table if not exists lading_objects (
        workspace text not null, name text not null, schema_json text not null,
        created_at text not null, primary key (workspace, name))""",
    """create table if not exists lading_api_keys (
        key_id text primary key, workspace text not null, scopes text not null,
        secret_sha256 text not null, created_at text not null, revoked_at text)""",
)

# Compared against when the key id is unknown, so that path costs the same as a wrong secret.
_NO_SUCH_KEY = hashlib.sha256(b"lading: no such key").hexdigest()


class SqlCatalog:
    """ObjectCatalog and ApiKeyStore in a SQLite file or a PostgreSQL database (URL)."""

    def __init__(self, target: SqlConnection | str | Path) -> None:
        db = target if isinstance(target, SqlConnection) else SqlConnection(target)
        self._db = db
        with db.transaction():
            if db.is_postgres:
                # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalogs.
                db.execute("select pg_advisory_xact_lock(hashtext('lading-ddl:catalog'))")
            for statement in _SCHEMA:
                db.execute(statement)

    def close(self) -> None:
        self._db.close()

    # -- objects --------------------------------------------------------------------------

    def add(self, workspace: str, name: str, schema: TableSchema) -> None:
        """Add an object; the same name with the same schema again is a no-op."""
        check_object_name(name)
        document = _canonical(schema)
        with self._db.transaction() as db:
            db.execute(
                "insert into lading_objects (workspace, name, schema_json, created_at)"
                " values (?, ?, ?, ?) on conflict (workspace, name) do nothing",
                (workspace, name, document, _now()),
            )
            stored = db.execute(
                "select schema_json from lading_objects where workspace = ? and name = ?",
                (workspace, name),
            )[0][0]
        if stored != document:
            raise ObjectExists(f"object {name!r} already exists with a different schema")

    def get(self, workspace: str, name: str) -> TableSchema | None:
        rows = self._db.execute(
            "select schema_json from lading_objects where workspace = ? and name = ?",
            (workspace, name),
        )
        return TableSchema.from_dict(json.loads(rows[0][0])) if rows else None

    def names(self, workspace: str) -> list[str]:
        rows = self._db.execute(
            "select name from lading_objects where workspace = ? order by name", (workspace,)
        )
        return [r[0] for r in rows]

    # -- API keys -------------------------------------------------------------------------

    def create(self, workspace: str, scopes: frozenset[str]) -> str:
        """Store a new key hashed; return the plaintext `ldg_<key id>_<secret>` (shown once)."""
        wanted = check_scopes(scopes)
        check_workspace_name(workspace)
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)  # 256 random bits
        self._db.execute(
            "insert into lading_api_keys (key_id, workspace, scopes, secret_sha256, created_at)"
            " values (?, ?, ?, ?, ?)",
            (key_id, workspace, " ".join(sorted(wanted)), _hash(secret), _now()),
        )
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def verify(self, presented: str) -> ApiKeyIdentity | None:
        """The identity a presented key acts as, or None (unknown, wrong, revoked, malformed)."""
        key_id, secret = _parse(presented)
        rows = self._db.execute(
            "select workspace, scopes, secret_sha256, revoked_at from lading_api_keys"
            " where key_id = ?",
            (key_id,),
        ) if key_id else []
        stored = rows[0][2] if rows else _NO_SUCH_KEY
        # Constant time over the digest, and the same work whether or not the id exists.
        matches = hmac.compare_digest(stored, _hash(secret))
        if not rows or not matches or rows[0][3] is not None:
            return None
        workspace, scopes = rows[0][0], rows[0][1]
        return ApiKeyIdentity(workspace=workspace, scopes=frozenset(scopes.split()), key_id=key_id,
                              public_id=f"{KEY_PREFIX}_{key_id}")

    def list_keys(self, workspace: str) -> list[dict[str, object]]:
        rows = self._db.execute(
            "select key_id, scopes, created_at, revoked_at from lading_api_keys"
            " where workspace = ? order by created_at, key_id", (workspace,))
        return [{"publicId": f"{KEY_PREFIX}_{key_id}", "scopes": scopes.split(),
                 "createdAt": created, "revokedAt": revoked}
                for key_id, scopes, created, revoked in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key for good (by its id, or its public id `ldg_<id>`); False when there is no
        such live key."""
        key_id = key_id.removeprefix(f"{KEY_PREFIX}_")
        return self._db.rowcount(
            "update lading_api_keys set revoked_at = ? where key_id = ? and revoked_at is null",
            (_now(), key_id),
        ) == 1


class SqliteCatalog(SqlCatalog):
    """The catalog in the embedded destination's SQLite file."""

    def __init__(self, directory: Path) -> None:
        super().__init__(database_path(Path(directory)))


class PostgresCatalog(SqlCatalog):
    """The catalog in the PostgreSQL destination (the URL's search_path picks the schema)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)


def _hash(secret: str) -> str:
    # SHA-256 without salt or stretching is enough here: the secret is 256 random bits, so
    # there is no dictionary to try and brute force is hopeless; slow hashes (bcrypt, argon2)
    # protect low-entropy passwords and would only add latency to every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(presented: object) -> tuple[str, str]:
    if not isinstance(presented, str):
        return "", ""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not _KEY_ID.fullmatch(parts[1]):
        return "", ""
    return parts[1], parts[2]


def _canonical(schema: TableSchema) -> str:
    return json.dumps(schema.to_dict(), sort_keys=True, separators=(",", ":"))


def _now() -> str:
    return now_utc()
