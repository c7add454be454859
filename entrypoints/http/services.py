"""What handlers share: the wired application, the URL signer and the saved mappings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from litestar import Request
from litestar.di import NamedDependency

from lading.application.exports import Exports
from lading.application.import_jobs import ImportJobs
from lading.application.job_reports import JobReports
from lading.application.objects import Objects
from lading.application.mapping_suggestions import MappingSuggestions
from lading.application.saved_mappings import MappingLibrary
from lading.application.uploads import Uploads
from lading.entrypoints.bootstrap import Lading
from lading.entrypoints.http.signed_urls import UrlSigner

R = TypeVar("R")


async def blocking(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Run a synchronous call (eventsourcing, SQL, file copies) off the event loop."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


@dataclass
class Services:
    lading: Lading
    signer: UrlSigner
    library: MappingLibrary
    public_url: str | None = None

    @property
    def jobs(self) -> ImportJobs:
        return self.lading.jobs

    @property
    def exports(self) -> Exports:
        return self.lading.exports

    @property
    def reports(self) -> JobReports:
        return self.lading.reports

    @property
    def objects(self) -> Objects:
        return self.lading.objects

    @property
    def suggestions(self) -> MappingSuggestions:
        return self.lading.suggestions

    @property
    def uploads(self) -> Uploads:
        return Uploads(self.lading.jobs)

    def absolute(self, request: Request, path_and_query: str) -> str:
        """An absolute URL on LADING_PUBLIC_URL, else on the address the client reached us at."""
        base = self.public_url or str(request.base_url)
        return base.rstrip("/") + path_and_query


Svc = NamedDependency[Services]
