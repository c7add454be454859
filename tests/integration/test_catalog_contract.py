"""The object catalog and the API key store, one set of tests on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from lading.adapters.sql_catalog import PostgresCatalog, SqliteCatalog
from lading.adapters.sqlite_destination import SqliteDestination
from lading.application.ports import ApiKeyIdentity
from lading.domain.errors import DomainError, InvalidObjectName, InvalidScopes, ObjectExists
from lading.domain.table_schema import TableSchema
from tests.integration.conftest import Backend, Database

CONTACTS = TableSchema.from_dict({
    "fields": [{"name": "id", "type": "integer"},
               {"name": "email", "type": "string", "format": "email",
                "constraints": {"required": True}},
               {"name": "tier", "type": "string", "constraints": {"enum": ["free", "pro"]}}],
    "primaryKey": ["id"],
})
ORDERS = TableSchema.from_dict({
    "fields": [{"name": "order_id", "type": "string"}, {"name": "total", "type": "number"}],
    "primaryKey": "order_id",
})


@pytest.fixture
def backend(database: Database) -> Backend:
    return Backend.of(database, SqliteCatalog, PostgresCatalog)


@pytest.fixture
def catalog(backend: Backend) -> Iterator[Any]:
    opened = backend.open()
    yield opened
    opened.close()


# -- objects --------------------------------------------------------------------------------


def test_an_added_object_comes_back_with_its_schema(catalog):
    catalog.add("acme", "contacts", CONTACTS)
    assert catalog.get("acme", "contacts") == CONTACTS
    assert catalog.get("acme", "orders") is None


def test_names_are_listed_sorted_per_workspace(catalog):
    catalog.add("acme", "orders", ORDERS)
    catalog.add("acme", "contacts", CONTACTS)
    catalog.add("globex", "leads", CONTACTS)
    assert catalog.names("acme") == ["contacts", "orders"]
    assert catalog.names("globex") == ["leads"]
    assert catalog.names("initech") == []


def test_objects_do_not_cross_workspaces(catalog):
    catalog.add("acme", "contacts", CONTACTS)
    assert catalog.get("globex", "contacts") is None
    catalog.add("globex", "contacts", ORDERS)  # the same name elsewhere is a different object
    assert catalog.get("acme", "contacts") == CONTACTS
    assert catalog.get("globex", "contacts") == ORDERS


def test_adding_the_same_object_again_is_a_no_op(catalog):
    catalog.add("acme", "contacts", CONTACTS)
    catalog.add("acme", "contacts", TableSchema.from_dict(CONTACTS.to_dict()))
    assert catalog.names("acme") == ["contacts"]


def test_adding_an_existing_name_with_another_schema_is_refused_and_keeps_the_first(catalog):
    catalog.add("acme", "contacts", CONTACTS)
    with pytest.raises(ObjectExists) as refused:
        catalog.add("acme", "contacts", ORDERS)
    assert isinstance(refused.value, DomainError) and refused.value.code == "STATE.CONFLICT"
    assert catalog.get("acme", "contacts") == CONTACTS


def test_objects_survive_reopening(backend):
    first = backend.open()
    first.add("acme", "contacts", CONTACTS)
    first.close()
    second = backend.open()
    try:
        assert second.get("acme", "contacts") == CONTACTS
    finally:
        second.close()


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "quote'", 'dq"', "é", "a/b",
                                  "x" * 64, None, 7])
def test_object_names_outside_letters_digits_underscore_and_dash_are_refused(catalog, name):
    with pytest.raises(InvalidObjectName):
        catalog.add("acme", name, CONTACTS)
    assert catalog.names("acme") == []


@pytest.mark.parametrize("name", ["a", "Contacts-2024_v2", "x" * 63, "123", "-_-"])
def test_object_names_of_letters_digits_underscore_and_dash_are_accepted(catalog, name):
    catalog.add("acme", name, CONTACTS)
    assert catalog.get("acme", name) == CONTACTS


def test_the_embedded_catalog_shares_the_destinations_sqlite_file(tmp_path):
    destination = SqliteDestination(tmp_path)
    catalog = SqliteCatalog(tmp_path)
    try:
        catalog.add("acme", "contacts", CONTACTS)
        destination.ensure_object("acme", "contacts", CONTACTS)
        assert catalog.get("acme", "contacts") == CONTACTS
        assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite") == [
            "destination.sqlite"]
    finally:
        catalog.close()
        destination.close()


# -- API keys -------------------------------------------------------------------------------


def test_a_created_key_verifies_as_its_workspace_and_scopes(catalog):
    key = catalog.create("acme", frozenset({"imports:read", "imports:write"}))
    identity = catalog.verify(key)
    assert isinstance(identity, ApiKeyIdentity)
    assert identity.workspace == "acme"
    assert identity.scopes == frozenset({"imports:read", "imports:write"})
    assert key.startswith(f"ldg_{identity.key_id}_")


def test_keys_are_unique_and_high_entropy(catalog):
    keys = {catalog.create("acme", frozenset({"admin"})) for _ in range(20)}
    assert len(keys) == 20
    assert all(len(k.split("_", 2)[2]) >= 43 for k in keys)  # 256 bits in URL-safe base64


def test_only_a_hash_of_the_secret_is_stored(catalog, backend):
    key = catalog.create("acme", frozenset({"admin"}))
    key_id, secret = key.split("_", 2)[1:]
    stored = backend.sql("select * from lading_api_keys")
    assert len(stored) == 1
    flat = " ".join(str(v) for v in stored[0])
    assert secret not in flat and key not in flat
    assert hashlib.sha256(secret.encode()).hexdigest() in stored[0]
    assert key_id in stored[0]


def test_a_key_with_a_wrong_secret_is_refused(catalog):
    key = catalog.create("acme", frozenset({"admin"}))
    last = "A" if key[-1] != "A" else "B"
    assert catalog.verify(key[:-1] + last) is None
    assert catalog.verify(key + "x") is None
    assert catalog.verify(key[:-1]) is None


@pytest.mark.parametrize("presented", [
    "", "ldg_", "ldg__", "ldg_0123456789abcdef_", "ldg_0123456789abcdef_" + "a" * 43,
    "Bearer ldg_x_y", "sk_live_abc", "ldg", "ldg_onlyonepart", "\x00", 12345, None,
    "ldg_\x00_secret", "ldg_0123456789ABCDEF_secret", "ldg_' or '1'='1_secret",
])
def test_unknown_or_malformed_keys_verify_as_nobody(catalog, presented):
    catalog.create("acme", frozenset({"admin"}))
    assert catalog.verify(presented) is None


def test_a_key_from_another_installation_is_refused(backend, tmp_path):
    foreign = SqliteCatalog(tmp_path / "elsewhere")
    try:
        key = foreign.create("acme", frozenset({"admin"}))
    finally:
        foreign.close()
    catalog = backend.open()
    try:
        assert catalog.verify(key) is None
    finally:
        catalog.close()


def test_surrounding_whitespace_is_tolerated(catalog):
    key = catalog.create("acme", frozenset({"imports:read"}))
    assert catalog.verify(f"  {key}\n") == catalog.verify(key) is not None


def test_a_revoked_key_no_longer_verifies(catalog):
    key = catalog.create("acme", frozenset({"admin"}))
    other = catalog.create("acme", frozenset({"admin"}))
    key_id = catalog.verify(key).key_id
    assert catalog.revoke(key_id) is True
    assert catalog.verify(key) is None
    assert catalog.verify(other) is not None, "only that key is revoked"
    assert catalog.revoke(key_id) is False, "a key is revoked once"
    assert catalog.revoke("no-such-key") is False


def test_keys_survive_reopening(backend):
    first = backend.open()
    key = first.create("acme", frozenset({"imports:write"}))
    first.close()
    second = backend.open()
    try:
        assert second.verify(key) == ApiKeyIdentity("acme", frozenset({"imports:write"}),
                                                     key.split("_")[1], "_".join(key.split("_")[:2]))
    finally:
        second.close()


@pytest.mark.parametrize("scopes", [
    frozenset(), frozenset({"imports:delete"}), frozenset({"admin", "root"}), frozenset({"ADMIN"}),
])
def test_keys_need_known_scopes(catalog, backend, scopes):
    with pytest.raises(InvalidScopes):
        catalog.create("acme", scopes)
    assert backend.sql("select count(*) from lading_api_keys") == [(0,)]


def test_every_scope_can_be_granted(catalog):
    key = catalog.create("acme", frozenset({"imports:read", "imports:write", "admin"}))
    assert catalog.verify(key).scopes == {"imports:read", "imports:write", "admin"}


def test_a_key_acts_for_exactly_one_workspace(catalog):
    acme = catalog.create("acme", frozenset({"admin"}))
    globex = catalog.create("globex", frozenset({"imports:read"}))
    assert catalog.verify(acme).workspace == "acme"
    assert catalog.verify(globex).workspace == "globex"
