"""Console sessions live in a store every `lading serve` node shares (ADR 0043): Redis when
LADING_REDIS_URL is set, else files under LADING_HOME. A person signed in on one node stays
signed in on another, and signing out on either ends it on both."""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

import redis
from litestar.testing import TestClient

from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.http.console.session import SESSION_COOKIE, SESSION_NAMESPACE, SESSION_STORE
from lading.entrypoints.settings import Settings

logging.getLogger("httpx").setLevel(logging.WARNING)
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _two_nodes(home: Path, **settings):
    nodes = [bootstrap(Settings(home=home, **settings),
                       eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"}) for _ in range(2)]
    return nodes, [create_app(n) for n in nodes]


def _sign_in(client: TestClient, key: str) -> tuple[str, str]:
    token = CSRF.search(client.get("/console/sign-in").text)[1]
    signed = client.post("/console/sign-in", data={"credential": key, "_csrf_token": token},
                         follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return client.cookies[SESSION_COOKIE], token


def _hand_over(source: TestClient, target: TestClient) -> None:
    """The browser's cookies, now sent to the other node (as a balancer would route them)."""
    for name in (SESSION_COOKIE, "lading_csrf"):
        target.cookies.set(name, source.cookies[name], path="/console")


def _signed_in(client: TestClient) -> bool:
    return client.get("/console/jobs", follow_redirects=False).status_code == 200


def test_a_session_made_on_one_node_works_on_another_through_files_under_lading_home(tmp_path):
    home = tmp_path / "home"
    nodes, (app_a, app_b) = _two_nodes(home)
    key = nodes[0].keys.create("acme", frozenset({"imports:read", "imports:write"}))
    with TestClient(app_a) as a, TestClient(app_b) as b:
        session_id, token = _sign_in(a, key)
        _hand_over(a, b)
        assert _signed_in(b)
        directory = home / SESSION_STORE
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        [session_file] = directory.iterdir()  # named by a hash: the directory shows no session id
        assert session_id not in session_file.name
        assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
        assert b.post("/console/sign-out", data={"_csrf_token": token},
                      follow_redirects=False).status_code == 303
        assert not _signed_in(a)
        assert list(directory.iterdir()) == []
    for node in nodes:
        node.close()


def test_with_redis_the_nodes_share_sessions_there_and_write_no_files(tmp_path, redis_url):
    home = tmp_path / "home"
    nodes, (app_a, app_b) = _two_nodes(home, redis_url=redis_url)
    key = nodes[0].keys.create("acme", frozenset({"imports:read"}))
    with TestClient(app_a) as a, TestClient(app_b) as b:
        session_id, _ = _sign_in(b, key)
        _hand_over(b, a)
        assert _signed_in(a)
        server = redis.Redis.from_url(redis_url)
        stored = f"{SESSION_NAMESPACE}:{session_id}"
        assert server.exists(stored)
        assert 0 < server.ttl(stored) <= 8 * 3600
        assert not (home / SESSION_STORE).exists()
        server.delete(stored)  # the shared store is the session: gone there, gone everywhere
        assert not _signed_in(a) and not _signed_in(b)
    for node in nodes:
        node.close()
