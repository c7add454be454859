"""One real `lading serve` per test module, and a client with a key of the module's workspace.

A module says what it needs with module constants: `WS` (the client's workspace),
`SERVER_WORKSPACES` (every workspace given the profiles object; default just WS),
`SERVER_WORKER` (False: an API node without a worker, so jobs stay queued) and `SERVER_ENV`
(settings for the server, such as a JWT key or limits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import PROFILES_SCHEMA, generate_profiles
from tests.e2e.cli import CRASH_CHUNK_ENV, CRASH_ROWS, Lading
from tests.e2e.http_server import LadingServer


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    module = request.module
    workspace = getattr(module, "WS", "acme")
    srv = LadingServer(tmp_path_factory.mktemp(module.__name__.rsplit(".", 1)[-1]),
                       worker=getattr(module, "SERVER_WORKER", True), **getattr(module, "SERVER_ENV", {}))
    for name in getattr(module, "SERVER_WORKSPACES", (workspace,)):
        srv.add_profiles(name)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(request, server):
    with server.client(server.key(getattr(request.module, "WS", "acme"))) as c:
        yield c


@pytest.fixture(scope="session")
def crash_reference(tmp_path_factory) -> tuple[Path, Lading]:
    """The crash tests' file and the home of one uninterrupted `lading import` of it (SQLite):
    what every interrupted run must end as. Made once per test process and only read."""
    folder = tmp_path_factory.mktemp("crash-reference")
    data = folder / "profiles.csv"
    generate_profiles(CRASH_ROWS, data, invalid_rate=0.01)
    reference = Lading(folder / "reference", **CRASH_CHUNK_ENV)
    reference.add_object(folder, "profiles", PROFILES_SCHEMA)
    reference.run("import", str(data), "--object", "profiles", "--json")
    return data, reference
