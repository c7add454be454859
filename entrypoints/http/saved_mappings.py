"""/v1/mapping-templates and /v1/import-configurations: saved mappings, per workspace."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from lading.application.saved_mappings import ImportConfiguration, MappingTemplate
from lading.entrypoints.http.auth import READ, WRITE, requires
from lading.entrypoints.http.envelope import Envelope, ok
from lading.entrypoints.http.errors import error_responses
from lading.entrypoints.http.schemas import (
    Configuration,
    ConfigurationCreate,
    MappingFields,
    Removed,
    Template,
    TemplateCreate,
)
from lading.entrypoints.http.services import Services, Svc, blocking


def _mapping(fields: MappingFields | None) -> dict[str, Any]:
    if fields is None:
        return {}
    return {k: v for k, v in (("sourceFields", fields.source_fields), ("fieldMap", fields.field_map),
                              ("importMode", fields.import_mode), ("operation", fields.operation),
                              ("reviewPolicy", fields.review_policy)) if v is not None}


def _template(t: MappingTemplate) -> Template:
    return Template(id=t.id, name=t.name, object_name=t.object_name, mapping=t.mapping,  # type: ignore[arg-type]
                    created_at=t.created_at)


def _configuration(request: Request, services: Services, c: ImportConfiguration) -> Configuration:
    push = services.absolute(request, f"/v1/import-configurations/{c.id}/push")
    trigger = (services.absolute(request, f"/v1/import-configurations/{c.id}/trigger")
               if c.source_url else None)
    return Configuration(id=c.id, name=c.name, object_name=c.object_name, mapping=c.mapping,  # type: ignore[arg-type]
                         source=c.source, labels=c.labels, created_at=c.created_at, push_url=push,
                         source_url=c.source_url, trigger_url=trigger, external_id=c.external_id)


class MappingTemplatesController(Controller):
    path = "/v1/mapping-templates"
    tags = ["mapping templates"]

    @get("/", operation_id="listMappingTemplates", guards=[requires(READ)],
         responses=error_responses(), summary="The workspace's mapping templates")
    async def list_templates(self, request: Request, services: Svc) -> Envelope[list[Template]]:
        found = await blocking(services.library.store.templates, request.user.workspace)
        return ok(request, [_template(t) for t in found])

    @post("/", operation_id="createMappingTemplate", guards=[requires(WRITE)], status_code=201,
          responses=error_responses(404, 422), summary="Save a mapping for an object as a template")
    async def create(self, request: Request, services: Svc,
                     data: JSONBody[TemplateCreate]) -> Envelope[Template]:
        saved = await blocking(services.library.save_template, request.user.workspace, data.name,
                               data.object_name, _mapping(data.mapping))
        return ok(request, _template(saved))

    @get("/{template_id:str}", operation_id="getMappingTemplate", guards=[requires(READ)],
         responses=error_responses(404), summary="One mapping template")
    async def get_template(self, request: Request, services: Svc,
                           template_id: FromPath[str]) -> Envelope[Template]:
        found = await blocking(services.library.template, request.user.workspace, template_id)
        return ok(request, _template(found))

    @delete("/{template_id:str}", operation_id="deleteMappingTemplate", guards=[requires(WRITE)],
            status_code=200, responses=error_responses(404), summary="Delete a mapping template")
    async def remove(self, request: Request, services: Svc, template_id: FromPath[str]) -> Envelope[Removed]:
        await blocking(services.library.delete_template, request.user.workspace, template_id)
        return ok(request, Removed(id=template_id, deleted=True))


class ImportConfigurationsController(Controller):
    path = "/v1/import-configurations"
    tags = ["import configurations"]

    @get("/", operation_id="listImportConfigurations", guards=[requires(READ)],
         responses=error_responses(), summary="The workspace's import configurations")
    async def list_configurations(self, request: Request,
                                  services: Svc) -> Envelope[list[Configuration]]:
        found = await blocking(services.library.store.configurations, request.user.workspace)
        return ok(request, [_configuration(request, services, c) for c in found])

    @post("/", operation_id="createImportConfiguration", guards=[requires(WRITE)], status_code=201,
          responses={200: ResponseSpec(data_container=Envelope[Configuration],
                                       description="The configuration made before for this externalId"),
                     **error_responses(404, 422)},
          summary="Save an object + mapping + options that files can be pushed to")
    async def create(self, request: Request, services: Svc,
                     data: JSONBody[ConfigurationCreate]) -> Response[Envelope[Configuration]]:
        workspace = request.user.workspace
        if data.mapping is None and data.template_id is None:
            mapping: dict[str, Any] = {}
        else:
            mapping = await blocking(services.library.resolve, workspace, data.object_name,
                                     _mapping(data.mapping), data.template_id)
        if data.external_id is not None:
            saved, created = await blocking(services.library.provision_configuration, workspace,
                                            data.external_id, data.name, data.object_name, mapping,
                                            data.source, data.labels, data.source_url)
            return Response(ok(request, _configuration(request, services, saved)),
                            status_code=201 if created else 200)
        saved = await blocking(services.library.save_configuration, workspace, data.name,
                               data.object_name, mapping, data.source, data.labels,
                               data.source_url)
        return Response(ok(request, _configuration(request, services, saved)), status_code=201)

    @get("/{configuration_id:str}", operation_id="getImportConfiguration", guards=[requires(READ)],
         responses=error_responses(404), summary="One import configuration")
    async def get_configuration(self, request: Request, services: Svc,
                                configuration_id: FromPath[str]) -> Envelope[Configuration]:
        found = await blocking(services.library.configuration, request.user.workspace,
                               configuration_id)
        return ok(request, _configuration(request, services, found))

