"""One real `lading serve` per test module, and a client with a key of the module's workspace.

A module says what it needs with module constants: `WS` (the client's workspace),
`SERVER_WORKSPACES` (every workspace given the profiles object; default just WS),
`SERVER_WORKER` (False: an API node without a worker, so jobs stay queued) and `SERVER_ENV`
(settings for the server, such as a JWT key or limits)."""

from __future__ import annotations

import pytest

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
