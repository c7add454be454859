"""Mapping templates and import configurations: saved mappings a workspace reuses by id.

A template is a checked mapping for one object. A configuration adds what a pushed file needs
to run without further questions (the object, the mapping, the job's source and labels), so a
file can be handed to it over HTTP, from the CLI or from a watched folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from lading.application.errors import NotFound
from lading.application.sources import Sources
from lading.domain.errors import DomainError, InvalidPlan
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

# What a mapping request may carry besides a template reference.
MAPPING_KEYS = ("sourceFields", "fieldMap", "importMode", "operation", "reviewPolicy")


class TemplateNotFound(NotFound):
    def __init__(self, template_id: str) -> None:
        super().__init__(f"mapping template {template_id} not found")


class ConfigurationNotFound(NotFound):
    def __init__(self, configuration_id: str) -> None:
        super().__init__(f"import configuration {configuration_id} not found")


@dataclass(frozen=True)
class MappingTemplate:
    id: str
    workspace: str
    name: str
    object_name: str
    mapping: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class ImportConfiguration:
    id: str
    workspace: str
    name: str
    object_name: str
    mapping: dict[str, Any]
    created_at: str
    source: str | None = None
    labels: list[str] = field(default_factory=list)
    source_url: str | None = None  # what `trigger` imports (application/sources.py)
    external_id: str | None = None  # an outside system's id for it, unique in the workspace


class SavedMappingStore(Protocol):
    """Where templates and configurations live; every read is scoped to one workspace."""

    def add_template(self, workspace: str, name: str, object_name: str,
                     mapping: dict[str, Any]) -> MappingTemplate: ...

    def template(self, workspace: str, template_id: str) -> MappingTemplate | None: ...

    def templates(self, workspace: str) -> list[MappingTemplate]: ...

    def delete_template(self, workspace: str, template_id: str) -> bool: ...

    def add_configuration(self, workspace: str, name: str, object_name: str,
                          mapping: dict[str, Any], source: str | None,
                          labels: list[str], source_url: str | None = None) -> ImportConfiguration: ...

    def add_configuration_once(self, workspace: str, external_id: str, name: str, object_name: str,
                               mapping: dict[str, Any], source: str | None,
                               labels: list[str], source_url: str | None = None
                               ) -> tuple[ImportConfiguration, bool]:
        """The configuration with this external id: created now (True), or the one made before."""
        ...

    def configuration(self, workspace: str, configuration_id: str) -> ImportConfiguration | None: ...

    def configurations(self, workspace: str) -> list[ImportConfiguration]: ...


class SchemaSource(Protocol):
    def schema_of(self, workspace: str, object_name: str) -> TableSchema: ...

    def submit_path(self, workspace: str, object_name: str, path: Path, mapping: dict[str, Any],
                    **options: Any) -> tuple[UUID, bool]: ...

    def submit_object(self, workspace: str, object_name: str, url: str,
                      mapping: dict[str, Any], *, source: str | None = None,
                      labels: list[str] | None = None, start: bool = True) -> UUID: ...


class MappingLibrary:
    """Use cases over saved mappings; every mapping is checked against its object when saved."""

    def __init__(self, store: SavedMappingStore, schemas: SchemaSource,
                 sources: Sources | None = None) -> None:
        self.store = store
        self.schemas = schemas  # the jobs application: schemas to check against, submissions
        self.sources = sources or Sources(None)

    def _checked(self, workspace: str, object_name: str, mapping: dict[str, Any]) -> dict[str, Any]:
        return ImportPlan.from_dict(mapping, self.schemas.schema_of(workspace, object_name)).to_dict()

    def save_template(self, workspace: str, name: str, object_name: str,
                      mapping: dict[str, Any]) -> MappingTemplate:
        return self.store.add_template(workspace, name, object_name,
                                       self._checked(workspace, object_name, mapping))

    def template(self, workspace: str, template_id: str) -> MappingTemplate:
        found = self.store.template(workspace, template_id)
        if found is None:
            raise TemplateNotFound(template_id)
        return found

    def templates(self, workspace: str) -> list[MappingTemplate]:
        return self.store.templates(workspace)

    def configurations(self, workspace: str) -> list[ImportConfiguration]:
        return self.store.configurations(workspace)

    def delete_template(self, workspace: str, template_id: str) -> None:
        if not self.store.delete_template(workspace, template_id):
            raise TemplateNotFound(template_id)

    def save_configuration(self, workspace: str, name: str, object_name: str,
                           mapping: dict[str, Any], source: str | None = None,
                           labels: list[str] | None = None,
                           source_url: str | None = None) -> ImportConfiguration:
        if source_url is not None:
            self.sources.check(source_url)
        return self.store.add_configuration(workspace, name, object_name,
                                            self._checked(workspace, object_name, mapping),
                                            source, list(labels or []), source_url)

    def provision_configuration(self, workspace: str, external_id: str, name: str,
                                object_name: str, mapping: dict[str, Any], source: str | None = None,
                                labels: list[str] | None = None, source_url: str | None = None
                                ) -> tuple[ImportConfiguration, bool]:
        """A configuration for an outside system's `external_id`, idempotent: the same id again
        returns the configuration made the first time (False), whatever else is given."""
        if source_url is not None:
            self.sources.check(source_url)
        return self.store.add_configuration_once(workspace, external_id, name, object_name,
                                                 self._checked(workspace, object_name, mapping),
                                                 source, list(labels or []), source_url)

    def configuration(self, workspace: str, configuration_id: str) -> ImportConfiguration:
        found = self.store.configuration(workspace, configuration_id)
        if found is None:
            raise ConfigurationNotFound(configuration_id)
        return found

    def trigger(self, workspace: str, configuration_id: str,
                mapping: dict[str, Any] | None = None, *, start: bool = True) -> UUID:
        """Import the configuration's sourceUrl as it is now: a new job, mapped and queued.

        `mapping` overrides the configuration's mapping key by key (the CLI's --map, --mode)."""
        config = self.configuration(workspace, configuration_id)
        if not config.source_url:
            raise DomainError(f"import configuration {configuration_id} has no sourceUrl to import")
        mapping = {**config.mapping, **(mapping or {})}
        source, labels = config.source or "trigger", config.labels or None
        if self.sources.is_object(config.source_url):
            self.sources.check(config.source_url)
            # Copied inside the store (ADR 0056): this node never carries the bytes.
            return self.schemas.submit_object(workspace, config.object_name, config.source_url,
                                              mapping, source=source, labels=labels, start=start)
        with self.sources.fetched(config.source_url) as path:
            job_id, _ = self.schemas.submit_path(workspace, config.object_name, path, mapping,
                                                 source=source, labels=labels, start=start)
        return job_id

    def resolve(self, workspace: str, object_name: str, mapping: dict[str, Any],
                template_id: str | None, configuration_id: str | None = None) -> dict[str, Any]:
        """The mapping to apply: the template's (or the configuration's), overridden key by key
        by what the request gives."""
        given = {k: v for k, v in mapping.items() if k in MAPPING_KEYS and v is not None}
        if template_id:
            base: Any = self.template(workspace, template_id)
            named = f"mapping template {template_id}"
        elif configuration_id:
            base = self.configuration(workspace, configuration_id)
            named = f"import configuration {configuration_id}"
        else:
            return given
        if base.object_name != object_name:
            raise InvalidPlan(f"{named} is for object '{base.object_name}', not '{object_name}'")
        return {**{k: v for k, v in base.mapping.items() if k in MAPPING_KEYS}, **given}
