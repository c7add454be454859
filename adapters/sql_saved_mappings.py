"""Mapping templates and import configurations in SQL (the destination's SQLite file or
PostgreSQL database), scoped by workspace in every statement."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from lading.adapters.sql_connection import SqlConnection
from lading.application.saved_mappings import ImportConfiguration, MappingTemplate
from lading.domain.timestamps import now_utc

_SCHEMA = (
    """create table if not exists lading_mapping_templates (
        id text primary key, workspace text not null, name text not null,
        object_name text not null, mapping_json text not null, created_at text not null)""",
    """create index if not exists lading_mapping_templates_ws
        on lading_mapping_templates (workspace, created_at)""",
    """create table if not exists lading_import_configurations (
        id text primary key, workspace text not null, name text not null,
        object_name text not null, mapping_json text not null, source text,
        labels_json text not null, created_at text not null)""",
    """create index if not exists lading_import_configurations_ws
        on lading_import_configurations (workspace, created_at)""",
)

_COLUMNS = ("id, workspace, name, object_name, mapping_json, created_at, source, labels_json,"
            " source_url, external_id")


class SqlSavedMappings:
    def __init__(self, target: SqlConnection | str | Path) -> None:
        db = target if isinstance(target, SqlConnection) else SqlConnection(target)
        self._db = db
        with db.transaction():
            if db.is_postgres:
                # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalogs.
                db.execute("select pg_advisory_xact_lock(hashtext('lading-ddl:saved-mappings'))")
            for statement in _SCHEMA:
                db.execute(statement)
            self._add_source_url_column()
            self._add_external_id_column()

    def _add_source_url_column(self) -> None:
        """Configurations saved before sourceUrl existed: their table gains the column."""
        if self._db.is_postgres:
            self._db.execute("alter table lading_import_configurations"
                             " add column if not exists source_url text")
            return
        columns = [row[1] for row in self._db.execute("pragma table_info(lading_import_configurations)")]
        if "source_url" not in columns:
            self._db.execute("alter table lading_import_configurations add column source_url text")

    def _add_external_id_column(self) -> None:
        """A configuration provisioned for an outside system keeps that system's id, once per
        workspace (the unique index makes provisioning idempotent under concurrent requests)."""
        if self._db.is_postgres:
            self._db.execute("alter table lading_import_configurations"
                             " add column if not exists external_id text")
        else:
            columns = [row[1] for row in
                       self._db.execute("pragma table_info(lading_import_configurations)")]
            if "external_id" not in columns:
                self._db.execute("alter table lading_import_configurations add column external_id text")
        self._db.execute("create unique index if not exists lading_import_configurations_external"
                         " on lading_import_configurations (workspace, external_id)")

    def close(self) -> None:
        self._db.close()

    # -- templates ------------------------------------------------------------------------

    def add_template(self, workspace: str, name: str, object_name: str,
                     mapping: dict[str, Any]) -> MappingTemplate:
        template = MappingTemplate(id=_new_id(), workspace=workspace, name=name,
                                   object_name=object_name, mapping=dict(mapping), created_at=_now())
        self._db.execute(
            "insert into lading_mapping_templates"
            " (id, workspace, name, object_name, mapping_json, created_at) values (?, ?, ?, ?, ?, ?)",
            (template.id, workspace, name, object_name, json.dumps(template.mapping),
             template.created_at),
        )
        return template

    def template(self, workspace: str, template_id: str) -> MappingTemplate | None:
        rows = self._db.execute(
            "select id, workspace, name, object_name, mapping_json, created_at"
            " from lading_mapping_templates where workspace = ? and id = ?",
            (workspace, template_id),
        )
        return _template(rows[0]) if rows else None

    def templates(self, workspace: str) -> list[MappingTemplate]:
        rows = self._db.execute(
            "select id, workspace, name, object_name, mapping_json, created_at"
            " from lading_mapping_templates where workspace = ? order by created_at, id",
            (workspace,),
        )
        return [_template(r) for r in rows]

    def delete_template(self, workspace: str, template_id: str) -> bool:
        return self._db.rowcount(
            "delete from lading_mapping_templates where workspace = ? and id = ?",
            (workspace, template_id),
        ) == 1

    # -- configurations -------------------------------------------------------------------

    def add_configuration(self, workspace: str, name: str, object_name: str,
                          mapping: dict[str, Any], source: str | None,
                          labels: list[str], source_url: str | None = None) -> ImportConfiguration:
        config = ImportConfiguration(id=_new_id(), workspace=workspace, name=name,
                                     object_name=object_name, mapping=dict(mapping),
                                     created_at=_now(), source=source, labels=list(labels),
                                     source_url=source_url)
        self._db.execute(
            "insert into lading_import_configurations (id, workspace, name, object_name,"
            " mapping_json, source, labels_json, created_at, source_url)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (config.id, workspace, name, object_name, json.dumps(config.mapping), source,
             json.dumps(config.labels), config.created_at, source_url),
        )
        return config

    def add_configuration_once(self, workspace: str, external_id: str, name: str, object_name: str,
                               mapping: dict[str, Any], source: str | None,
                               labels: list[str], source_url: str | None = None
                               ) -> tuple[ImportConfiguration, bool]:
        """The workspace's configuration with this external id: made now (True) or before."""
        created = self._db.rowcount(
            "insert into lading_import_configurations (id, workspace, name, object_name,"
            " mapping_json, source, labels_json, created_at, source_url, external_id)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (workspace, external_id) do nothing",
            (_new_id(), workspace, name, object_name, json.dumps(mapping), source,
             json.dumps(list(labels)), _now(), source_url, external_id),
        ) == 1
        rows = self._db.execute(f"select {_COLUMNS} from lading_import_configurations"
                                " where workspace = ? and external_id = ?", (workspace, external_id))
        return _configuration(rows[0]), created

    def configuration(self, workspace: str, configuration_id: str) -> ImportConfiguration | None:
        rows = self._db.execute(
            f"select {_COLUMNS} from lading_import_configurations where workspace = ? and id = ?",
            (workspace, configuration_id),
        )
        return _configuration(rows[0]) if rows else None

    def configurations(self, workspace: str) -> list[ImportConfiguration]:
        rows = self._db.execute(
            f"select {_COLUMNS} from lading_import_configurations where workspace = ?"
            " order by created_at, id",
            (workspace,),
        )
        return [_configuration(r) for r in rows]


def _template(row: tuple) -> MappingTemplate:
    return MappingTemplate(id=row[0], workspace=row[1], name=row[2], object_name=row[3],
                           mapping=json.loads(row[4]), created_at=row[5])


def _configuration(row: tuple) -> ImportConfiguration:
    return ImportConfiguration(id=row[0], workspace=row[1], name=row[2], object_name=row[3],
                               mapping=json.loads(row[4]), created_at=row[5], source=row[6],
                               labels=json.loads(row[7]), source_url=row[8], external_id=row[9])


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> str:
    return now_utc()
