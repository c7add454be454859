"""Two API nodes share one rate limit per key through Redis (the real server at
127.0.0.1:6379); without Redis each process keeps its own count."""

from __future__ import annotations

import logging
from pathlib import Path

from litestar.testing import TestClient

from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.settings import Settings

logging.getLogger("httpx").setLevel(logging.WARNING)


def _two_nodes(home: Path, **settings):
    """Two wired apps over the same catalog (so the same keys), like two `lading serve`s."""
    nodes = [bootstrap(Settings(home=home, **settings),
                       eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"}) for _ in range(2)]
    return nodes, [create_app(n) for n in nodes]


def _get(client: TestClient, key: str):
    return client.get("/v1/import-jobs", headers={"X-API-Key": key})


def test_two_nodes_count_one_keys_requests_against_one_budget_in_redis(tmp_path, redis_url):
    nodes, (app_a, app_b) = _two_nodes(tmp_path / "home", rate_limit_per_minute=5, redis_url=redis_url)
    key = nodes[0].keys.create("acme", frozenset({"imports:read"}))
    other = nodes[0].keys.create("acme", frozenset({"imports:read"}))
    with TestClient(app_a) as a, TestClient(app_b) as b:
        statuses = [_get(node, key).status_code for node in (a, b, a, b, a)]
        assert statuses == [200] * 5
        for node in (a, b):
            limited = _get(node, key)
            assert limited.status_code == 429
            assert limited.json()["error"]["code"] == "LIMIT.RATE"
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert _get(b, other).status_code == 200, "another key has its own budget"
    for node in nodes:
        node.close()


def test_without_redis_each_node_counts_for_itself(tmp_path):
    nodes, (app_a, app_b) = _two_nodes(tmp_path / "home", rate_limit_per_minute=3)
    key = nodes[0].keys.create("acme", frozenset({"imports:read"}))
    with TestClient(app_a) as a, TestClient(app_b) as b:
        assert [_get(a, key).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert _get(b, key).status_code == 200
    for node in nodes:
        node.close()
