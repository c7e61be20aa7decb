"""`app export` / `app import` as operations, on SQLite and PostgreSQL: an exported application
imported into an empty service exports the same bytes; every key of the document is checked
(removed, of the wrong type, or joined by an unknown key: a clear error naming the key, and
nothing changed); a dry run changes nothing; the Secret token never travels in the document."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from enlist.document_shape import DocumentError, dump, load
from enlist.provisioning import operations
from enlist.provisioning.config_doc.document import SECRET_PLACEHOLDER, read_document
from enlist.provisioning.config_doc.operations import export_app, import_app
from enlist.provisioning.engine.mapping_edits import build_row
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import applications, assignments
from tests.integration.config.conftest import DOMAIN, load_directory

TENANT_URL = "https://scim.example.com/scim/v2/acme"
TOKEN = "secret-token-for-acme"


async def configured_app(service: Service, name: str = "Learning portal") -> None:
    """An application with something in every section: connection, changed settings, a scoping
    filter, an expression mapping and an on-create row, users and groups assigned, started."""
    await load_directory(service)
    app = await operations.create(service, name)
    async with service.db.write() as conn:
        await app_store.connect(conn, app, TENANT_URL, service.secrets.seal(TOKEN))
    await operations.save_settings(
        service,
        app,
        {"interval_minutes": "20", "deletion_threshold": "25", "notification_email": "ops@contoso.com"},
    )
    await operations.set_scoping(
        service,
        app,
        [
            {
                "title": "Not auditors",
                "clauses": [{"attribute": "department", "operator": "NOT EQUALS", "value": "Audit"}],
            }
        ],
    )
    await operations.map_attribute(
        service, app, "user", "nickName", "expression", 'Join(".", [givenName], [surname])',
        on_create=True, matching=None, default="n/a",
    )  # fmt: skip
    await operations.unmap(service, app, "user", 'phoneNumbers[type eq "fax"].value')
    async with service.db.write() as conn:
        from enlist.provisioning.directory import store as directory  # noqa: PLC0415

        group = await directory.get_group_by_name(conn, "Engineering")
        user = await directory.get_user_by_upn(conn, f"bob@{DOMAIN}")
        assert group is not None
        assert user is not None
        await app_store.assign(conn, app, "group", [group.id])
        await app_store.assign(conn, app, "user", [user.id])
    await operations.change_state(service, app, "start")


async def snapshot(service: Service) -> list[Any]:
    """Every application row and assignment, as stored (ids and timestamps included)."""
    async with service.db.read() as conn:
        apps = [
            dict(r._mapping) for r in await conn.execute(sa.select(applications).order_by(applications.c.id))
        ]
        assigned = sorted(tuple(r) for r in await conn.execute(sa.select(assignments)))
    return [apps, assigned]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
async def test_an_exported_application_imported_into_an_empty_service_exports_the_same_bytes(
    service: Service, empty_service: Service, fmt: str
) -> None:
    await configured_app(service)
    text = dump((await export_app(service, "Learning portal")).to_data(), fmt)  # type: ignore[arg-type]
    assert TOKEN not in text
    assert SECRET_PLACEHOLDER in text
    await load_directory(empty_service)
    result = await import_app(empty_service, read_document(load(text)), secret_token=TOKEN)
    assert result.created
    again = dump((await export_app(empty_service, "Learning portal")).to_data(), fmt)  # type: ignore[arg-type]
    assert again == text
    async with empty_service.db.read() as conn:
        imported = await app_store.get_app(conn, "Learning portal")
    assert imported.state == "active"
    assert empty_service.secrets.open(imported.sealed_token or "") == TOKEN
    # Importing the same document again changes nothing, and says so.
    before = await snapshot(empty_service)
    repeat = await import_app(empty_service, read_document(load(text)))
    assert repeat.changes == []
    assert await snapshot(empty_service) == before


async def test_the_document_has_every_section_with_names_not_ids(service: Service) -> None:
    await configured_app(service)
    data = (await export_app(service, "Learning portal")).to_data()
    assert list(data) == [
        "version", "name", "connection", "provisioning_status", "settings", "scoping_filters", "mappings", "assignments",
    ]  # fmt: skip
    assert data["connection"] == {"tenant_url": TENANT_URL, "secret_token": SECRET_PLACEHOLDER}
    assert data["provisioning_status"] == "on"
    assert data["settings"]["interval_minutes"] == 20.0
    assert data["settings"]["notification_email"] == "ops@contoso.com"
    assert data["assignments"] == {"users": [f"bob@{DOMAIN}"], "groups": ["Engineering"]}
    rows = {r["target"]: r for r in data["mappings"]["users"]["attributes"]}
    assert rows["nickName"] == {
        "target": "nickName", "kind": "expression", "source": 'Join(".", [givenName], [surname])',
        "apply": "on_create", "matching_precedence": None, "default_if_null": "n/a",
    }  # fmt: skip
    assert data["scoping_filters"][0]["clauses"][0]["operator"] == "NOT EQUALS"


def every_path(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and list index under `data`, parents before children."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from every_path(value, (*path, key))


def spelled(path: tuple[Any, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


def wrong_type(value: Any) -> Any:
    """A value of another JSON type than `value`."""
    if isinstance(value, str):
        return 7
    if isinstance(value, bool | int | float) or value is None:
        return ["not", "this"]
    return "not this"


async def test_every_key_removed_retyped_or_joined_by_an_unknown_key_is_refused_by_path_and_changes_nothing(
    service: Service,
) -> None:
    await configured_app(service)
    document = (await export_app(service, "Learning portal")).to_data()
    before = await snapshot(service)
    refused = 0
    for path in every_path(document):
        where = spelled(path)
        parent = parent_of(document, path)
        variants: list[tuple[str, Any]] = []
        if isinstance(parent, dict):
            removed = copy.deepcopy(document)
            del parent_of(removed, path)[path[-1]]
            variants.append(("removed", removed))
        retyped = copy.deepcopy(document)
        parent_of(retyped, path)[path[-1]] = wrong_type(parent[path[-1]])
        variants.append(("wrong type", retyped))
        if isinstance(parent[path[-1]], dict):
            extra = copy.deepcopy(document)
            parent_of(extra, (*path, "x"))["colour"] = "blue"
            variants.append(("unknown key", extra))
        for what, bad in variants:
            with pytest.raises(DocumentError) as caught:
                await import_app(service, read_document(bad), secret_token=TOKEN)
            expected = f"{where}.colour" if what == "unknown key" else where
            # A list item's error may name the key inside it that is now wrong.
            assert str(caught.value).startswith(expected) or caught.value.path.startswith(expected), (
                what,
                where,
                caught.value,
            )
            refused += 1
    unknown_top = {**document, "colour": "blue"}
    with pytest.raises(DocumentError, match=r"^colour: unknown key"):
        read_document(unknown_top)
    assert refused > 150  # every key of every mapping row, setting and clause was walked
    assert await snapshot(service) == before


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d.update(version=2), "version", "reads version 1 documents, not 2"),
        (lambda d: d["assignments"]["users"].append("nobody@contoso.com"), "assignments.users[1]", "no user 'nobody@contoso.com' in the directory"),
        (lambda d: d["assignments"]["groups"].append("Ghosts"), "assignments.groups[1]", "no group 'Ghosts' in the directory"),
        (lambda d: d["mappings"]["users"]["attributes"][1].update(source='Switch([IsSoftDeleted], , "False"'), "mappings.users.attributes[1].source", "at character 33"),
        (lambda d: d["mappings"]["users"]["attributes"][0].update(target="userName["), "mappings.users.attributes[0]", "userName["),
        (lambda d: d["scoping_filters"][0]["clauses"][0].update(operator="EQUAL"), "scoping_filters[0].clauses[0]", "did you mean EQUALS"),
        (lambda d: d["settings"].update(interval_minutes=0), "settings.interval_minutes", "from 1 to"),
        (lambda d: d["settings"].update(dialect="soap"), "settings.dialect", "must be one of rfc, entra"),
        (lambda d: d["connection"].update(secret_token=TOKEN), "connection.secret_token", "never carries the Secret token"),
        (lambda d: d["connection"].update(tenant_url="ftp://x"), "connection.tenant_url", "http(s) URL"),
        (lambda d: d.update(provisioning_status=True), "provisioning_status", 'quote it: "on"'),
        (lambda d: d["mappings"]["users"]["attributes"][0].update(matching_precedence=None), "mappings.users", "needs a matching attribute"),
        (lambda d: d["assignments"]["users"].append(f"BOB@{DOMAIN}"), "assignments.users[1]", "listed twice"),
    ],
)  # fmt: skip
async def test_a_bad_document_is_refused_with_its_path_and_changes_nothing(
    service: Service, change: Any, path: str, message: str
) -> None:
    await configured_app(service)
    document = (await export_app(service, "Learning portal")).to_data()
    document["settings"]["deletion_threshold"] = 99  # a good change, refused with the bad one
    change(document)
    before = await snapshot(service)
    with pytest.raises(DocumentError) as caught:
        await import_app(service, read_document(document), secret_token=TOKEN)
    assert caught.value.path == path
    assert message in str(caught.value)
    assert await snapshot(service) == before


async def test_a_dry_run_shows_the_difference_and_changes_nothing(service: Service) -> None:
    await configured_app(service)
    document = (await export_app(service, "Learning portal")).to_data()
    document["settings"]["interval_minutes"] = 60.0
    document["mappings"]["users"]["attributes"] = [
        r for r in document["mappings"]["users"]["attributes"] if r["target"] != "title"
    ]
    document["assignments"]["users"] = [f"eve@{DOMAIN}"]
    before = await snapshot(service)
    result = await import_app(service, read_document(document), dry_run=True)
    lines = [c.line() for c in result.changes]
    assert lines == [
        "~ settings.interval_minutes: 20.0 -> 60.0",
        "- mappings.users.attributes[title]: direct jobTitle",
        f'- assignments.users: "bob@{DOMAIN}"',
        f'+ assignments.users: "eve@{DOMAIN}"',
    ]
    assert await snapshot(service) == before
    applied = await import_app(service, read_document(document))
    assert [c.line() for c in applied.changes] == lines
    assert (await export_app(service, "Learning portal")).to_data() == document


async def test_a_new_application_needs_the_secret_token_and_an_update_keeps_the_stored_one(
    service: Service, empty_service: Service
) -> None:
    await configured_app(service)
    document = (await export_app(service, "Learning portal")).to_data()
    await load_directory(empty_service)
    with pytest.raises(DocumentError, match="without a Secret token") as caught:
        await import_app(empty_service, read_document(document))
    assert caught.value.path == "connection.secret_token"
    assert await snapshot(empty_service) == [[], []]
    await import_app(empty_service, read_document(document), secret_token=TOKEN)
    document["settings"]["interval_minutes"] = 30.0
    await import_app(empty_service, read_document(document))  # no token: the stored one stays
    async with empty_service.db.read() as conn:
        app = await app_store.get_app(conn, "Learning portal")
    assert empty_service.secrets.open(app.sealed_token or "") == TOKEN
    assert app.settings.interval_minutes == 30.0
    # A new Tenant URL needs the token again: the stored one never goes to another endpoint.
    document["connection"]["tenant_url"] = "https://elsewhere.example.com/scim"
    with pytest.raises(DocumentError, match="without a Secret token"):
        await import_app(empty_service, read_document(document))


async def test_changing_mappings_by_import_makes_the_next_cycle_an_initial_one(service: Service) -> None:
    await configured_app(service)
    async with service.db.write() as conn:
        app = await app_store.get_app(conn, "Learning portal")
        await app_store.update_app(conn, app.id, watermark=42)
    document = (await export_app(service, "Learning portal")).to_data()
    document["settings"]["interval_minutes"] = 45.0
    await import_app(service, read_document(document))
    async with service.db.read() as conn:
        assert (await app_store.get_app(conn, "Learning portal")).watermark == 42  # interval: no restart
    row = build_row("title", "constant", "Staff")
    document["mappings"]["users"]["attributes"] = [
        {**r, "kind": row.kind, "source": row.source} if r["target"] == "title" else r
        for r in document["mappings"]["users"]["attributes"]
    ]
    await import_app(service, read_document(document))
    async with service.db.read() as conn:
        assert (await app_store.get_app(conn, "Learning portal")).watermark is None


async def test_provisioning_status_off_pauses_and_on_starts(service: Service) -> None:
    await configured_app(service)
    document = (await export_app(service, "Learning portal")).to_data()
    document["provisioning_status"] = "off"
    await import_app(service, read_document(document))
    async with service.db.read() as conn:
        assert (await app_store.get_app(conn, "Learning portal")).state == "paused"
    document["provisioning_status"] = "on"
    await import_app(service, read_document(document))
    async with service.db.read() as conn:
        assert (await app_store.get_app(conn, "Learning portal")).state == "active"
