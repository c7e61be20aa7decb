"""`enlist lms tenant export` / `tenant import` as operations, on SQLite and PostgreSQL: a
tenant's policies exported and imported into an empty portal export the same bytes; every key
removed, retyped or joined by an unknown one is refused by path and changes nothing; a dry run
changes nothing; an import that changes a placement policy re-places the members."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa

from enlist.document_shape import DocumentError, dump, load
from enlist.lms import operations
from enlist.lms.api.runtime import Portal
from enlist.lms.domain.policy import TenantPolicy
from enlist.lms.policy_document import ADDED_LATER, document_of, import_policy_document, read_policy_document
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import tenants
from tests.integration.config.test_app_document import every_path, parent_of, spelled, wrong_type


async def configured_tenant(portal: Portal) -> dict[str, Any]:
    async with portal.db.write() as conn:
        minted = await operations.create_tenant(conn, "Contoso Learning", portal.peppers.current)
        await operations.set_policy(
            conn,
            minted.tenant,
            {"placement": "Sales*,Engineering", "seat_limit": "500", "required_fields": "email,displayName",
             "token_overlap_hours": "12.5", "unknown_managers": "keep"},
        )  # fmt: skip
        return document_of(await tenant_store.get_tenant(conn, "contoso-learning")).to_data()


async def rows(portal: Portal) -> list[dict[str, Any]]:
    async with portal.db.read() as conn:
        return [dict(r._mapping) for r in await conn.execute(sa.select(tenants).order_by(tenants.c.id))]


async def apply(portal: Portal, data: Any, *, dry_run: bool = False) -> Any:
    async with portal.db.read() if dry_run else portal.db.write() as conn:
        return await import_policy_document(
            conn, read_policy_document(data), portal.peppers.current, dry_run=dry_run
        )


@pytest.mark.parametrize("fmt", ["json", "yaml"])
async def test_exported_policies_imported_into_an_empty_portal_export_the_same_bytes(
    portal: Portal, fmt: str
) -> None:
    text = dump(await configured_tenant(portal), fmt)  # type: ignore[arg-type]
    async with portal.db.write() as conn:
        await conn.execute(tenants.delete())  # the same database, emptied: an empty portal
    result = await apply(portal, load(text))
    assert result.created
    assert result.token
    async with portal.db.read() as conn:
        again = dump(document_of(await tenant_store.get_tenant(conn, "contoso-learning")).to_data(), fmt)  # type: ignore[arg-type]
    assert again == text
    before = await rows(portal)
    assert (await apply(portal, load(text))).changes == []
    assert await rows(portal) == before


async def test_every_key_removed_retyped_or_joined_by_an_unknown_key_is_refused_by_path(
    portal: Portal,
) -> None:
    document = await configured_tenant(portal)
    before = await rows(portal)
    for path in every_path(document):
        parent = parent_of(document, path)
        variants = []
        if isinstance(parent, dict) and not (path[0] == "policies" and path[-1] in ADDED_LATER):
            removed = copy.deepcopy(document)
            del parent_of(removed, path)[path[-1]]
            variants.append((spelled(path), removed))
        retyped = copy.deepcopy(document)
        parent_of(retyped, path)[path[-1]] = wrong_type(parent[path[-1]])
        variants.append((spelled(path), retyped))
        if isinstance(parent[path[-1]], dict):
            extra = copy.deepcopy(document)
            parent_of(extra, (*path, "x"))["colour"] = "blue"
            variants.append((f"{spelled(path)}.colour", extra))
        for where, bad in variants:
            with pytest.raises(DocumentError) as caught:
                await apply(portal, bad)
            assert caught.value.path.startswith(where), (where, caught.value)
    assert await rows(portal) == before


async def test_a_document_exported_before_the_later_policies_existed_imports_with_their_defaults(
    portal: Portal,
) -> None:
    document = await configured_tenant(portal)
    old = copy.deepcopy(document)
    for key in ADDED_LATER:
        del old["policies"][key]
    async with portal.db.write() as conn:
        await conn.execute(tenants.delete())
    assert (await apply(portal, old)).created
    async with portal.db.read() as conn:
        imported = await tenant_store.get_tenant(conn, "contoso-learning")
    defaults = TenantPolicy().to_json()
    assert {k: imported.policy.to_json()[k] for k in ADDED_LATER} == {k: defaults[k] for k in ADDED_LATER}
    assert document_of(imported).to_data() == document


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d.update(version=3), "version", "not 3"),
        (lambda d: d["policies"].update(group_mode="sideways"), "policies.group_mode", "must be one of"),
        (lambda d: d["policies"].update(seat_limit=-1), "policies.seat_limit", "at least 0"),
        (lambda d: d["policies"].update(required_fields=["shoe size"]), "policies.required_fields", "cannot be required"),
        (lambda d: d["policies"].update(placement=["Sales,EMEA"]), "policies.placement[0]", "without a comma"),
        (lambda d: d["policies"].update(token_overlap_hours=10_000), "policies.token_overlap_hours", "between 0 and"),
        (lambda d: d.update(name="Renamed"), "name", "does not rename tenants"),
    ],
)  # fmt: skip
async def test_a_bad_policy_document_is_refused_with_its_path_and_changes_nothing(
    portal: Portal, change: Any, path: str, message: str
) -> None:
    document = await configured_tenant(portal)
    document["policies"]["log_retention_days"] = 7  # a good change, refused with the bad one
    change(document)
    before = await rows(portal)
    with pytest.raises(DocumentError) as caught:
        await apply(portal, document)
    assert caught.value.path == path
    assert message in str(caught.value)
    assert await rows(portal) == before


async def test_a_dry_run_lists_the_changes_and_changes_nothing(portal: Portal) -> None:
    document = await configured_tenant(portal)
    document["policies"]["seat_limit"] = None
    document["policies"]["tie_break"] = "oldest"
    before = await rows(portal)
    result = await apply(portal, document, dry_run=True)
    assert result.changes == [
        '~ policies.tie_break: "name" -> "oldest"',
        "~ policies.seat_limit: 500 -> null",
    ]
    assert await rows(portal) == before
    applied = await apply(portal, document)
    assert applied.changes == result.changes
    async with portal.db.read() as conn:
        assert document_of(await tenant_store.get_tenant(conn, "contoso-learning")).to_data() == document
