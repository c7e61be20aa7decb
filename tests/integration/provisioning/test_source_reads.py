"""Source reads beyond the contract suite: the deletion threshold, userPrincipalName conflicts
between sources, the lease, the scheduler, and asking the applications' next cycle to run."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.apply import RoundHeldError
from enlist.provisioning.sources.read import SourceBusyError, read_source
from enlist.provisioning.sources.registry import NoReaderError
from enlist.provisioning.sources.scheduling import read_due
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import applications


def users_file(folder: Path, name: str, count: int, prefix: str = "u") -> None:
    document = {
        "users": [{"id": None, "userPrincipalName": f"{prefix}{i}@contoso.com"} for i in range(count)]
    }
    for user in document["users"]:
        user.pop("id")
    (folder / name).write_text(json.dumps(document), encoding="utf-8")


async def file_source(service: Service, tmp_path: Path, name: str = "hr") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    await operations.add(service, name, "file", {"path": str(folder)}, {})
    return folder


async def live_users(service: Service, source: str) -> int:
    async with service.db.read() as conn:
        query = sa.select(sa.func.count()).where(
            (dir_users.c.source == source) & dir_users.c.deleted_at.is_(None)
        )
        return int((await conn.execute(query)).scalar_one())


async def test_a_read_removing_more_than_the_threshold_is_held_until_allowed(
    service: Service, tmp_path: Path
) -> None:
    folder = await file_source(service, tmp_path)
    users_file(folder, "a.json", 10)
    await operations.sync(service, "hr", full=False)
    await operations.configure(service, "hr", {"deletion_threshold": "3"})
    users_file(folder, "b.json", 6)  # removes 4
    with pytest.raises(RoundHeldError, match="remove 4 objects"):
        await operations.sync(service, "hr", full=False)
    assert await live_users(service, "hr") == 10
    held = await operations.get(service, "hr")
    assert held.last_status == "held"
    assert held.last_error is not None
    assert "deletion threshold" in held.last_error
    result = await operations.sync(service, "hr", full=False, allow_deletes=True)
    assert result.report.counts["users_deleted"] == 4
    assert await live_users(service, "hr") == 6


async def test_two_sources_claiming_one_upn_are_reported_never_merged(
    service: Service, tmp_path: Path
) -> None:
    first = await file_source(service, tmp_path, "hr")
    second = await file_source(service, tmp_path, "contractors")
    users_file(first, "a.json", 2)
    users_file(second, "a.json", 3)  # u0 and u1 are hr's already
    await operations.sync(service, "hr", full=False)
    result = (await operations.sync(service, "contractors", full=False)).to_json()
    assert sorted(c["userPrincipalName"] for c in result["conflicts"]) == ["u0@contoso.com", "u1@contoso.com"]
    assert {c["owner"] for c in result["conflicts"]} == {"hr"}
    assert result["users_created"] == 1
    assert await live_users(service, "hr") == 2
    assert await live_users(service, "contractors") == 1


async def test_a_hand_imported_user_is_not_taken_over_by_a_source(service: Service, tmp_path: Path) -> None:
    data = parse_directory_json(json.dumps({"users": [{"userPrincipalName": "u0@contoso.com"}]}))
    async with service.db.write() as conn:
        await import_directory(conn, data, replace=False)
    folder = await file_source(service, tmp_path)
    users_file(folder, "a.json", 1)
    result = (await operations.sync(service, "hr", full=False)).to_json()
    assert [(c["userPrincipalName"], c["owner"]) for c in result["conflicts"]] == [("u0@contoso.com", "file")]


async def test_a_source_whose_lease_is_held_is_not_read_twice(service: Service, tmp_path: Path) -> None:
    folder = await file_source(service, tmp_path)
    users_file(folder, "a.json", 2)
    source = await operations.get(service, "hr")
    async with service.db.write() as conn:
        assert await source_store.claim(conn, source.id, "elsewhere:1:abc")
    with pytest.raises(SourceBusyError):
        await read_source(service, source)
    assert await read_due(service) == 0
    assert await live_users(service, "hr") == 0


async def test_the_scheduler_reads_due_sources_and_skips_paused_ones(
    service: Service, tmp_path: Path
) -> None:
    folder = await file_source(service, tmp_path)
    paused = await file_source(service, tmp_path, "paused")
    users_file(folder, "a.json", 2)
    users_file(paused, "a.json", 2, prefix="p")
    await operations.change_state(service, "paused", "pause")
    assert await read_due(service) == 1
    assert (await live_users(service, "hr"), await live_users(service, "paused")) == (2, 0)
    after = await operations.get(service, "hr")
    assert after.next_read_at is not None
    assert after.next_read_at > now() + timedelta(minutes=4)
    assert await read_due(service) == 0  # not due again before its interval


async def test_a_read_that_changed_something_brings_the_next_cycle_forward(
    service: Service, tmp_path: Path
) -> None:
    async with service.db.write() as conn:
        app = await app_store.create_app(conn, "Portal", {}, {})
        later = now() + timedelta(hours=1)
        await app_store.update_app(conn, app.id, state="active", next_run_at=later)
    folder = await file_source(service, tmp_path)
    users_file(folder, "a.json", 1)
    await operations.sync(service, "hr", full=False)
    async with service.db.read() as conn:
        next_run = (await conn.execute(sa.select(applications.c.next_run_at))).scalar_one()
    assert next_run <= now()
    async with service.db.write() as conn:
        await app_store.update_app(conn, app.id, next_run_at=later)
    await operations.sync(service, "hr", full=False)  # same file: nothing changed
    async with service.db.read() as conn:
        assert (await conn.execute(sa.select(applications.c.next_run_at))).scalar_one() == later


async def test_a_push_source_is_stored_and_says_it_is_never_read(service: Service) -> None:
    await operations.add(
        service, "okta", "scim-push", {}, {"client_secret": "s3cr3t"}
    )  # every kind has its reader now; a push source is written into, never read
    with pytest.raises(NoReaderError, match="push source: there is nothing to read"):
        await operations.sync(service, "okta", full=False)
    stored: Any = await operations.get(service, "okta")
    assert "s3cr3t" not in json.dumps(stored.to_json())
    assert "s3cr3t" not in (stored.sealed_secrets or "")


async def test_a_replace_import_by_hand_leaves_a_sources_objects_alone(
    service: Service, tmp_path: Path
) -> None:
    folder = await file_source(service, tmp_path)
    users_file(folder, "a.json", 3)
    await operations.sync(service, "hr", full=False)
    data = parse_directory_json(json.dumps({"users": [{"userPrincipalName": "someone@contoso.com"}]}))
    async with service.db.write() as conn:
        report = await import_directory(conn, data, replace=True)
    assert report.users.soft_deleted == 0
    assert await live_users(service, "hr") == 3
