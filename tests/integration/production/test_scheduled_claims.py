"""A scheduler claims an application's cycle or a source's read only while it is still due: a
process that found it due may reach it after another process already ran that due time (its
list is stale), and must then leave it. A cycle or read asked for by hand (Sync now, `app sync`)
runs whenever the lease is free."""

from __future__ import annotations

from datetime import timedelta

from enlist.db.rows import now
from enlist.provisioning.engine.runner import claim, release
from enlist.provisioning.engine.scheduler import due_app_ids
from enlist.provisioning.mapping.mappings import default_group_mapping, default_user_mapping, mapping_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.scheduling import due_source_ids
from enlist.provisioning.store import apps as app_store


async def test_a_stale_due_application_is_not_claimed_by_the_scheduler_but_is_by_hand(
    service: Service,
) -> None:
    async with service.db.write() as conn:
        made = await app_store.create_app(
            conn,
            "Learning",
            mapping_to_json(default_user_mapping()),
            mapping_to_json(default_group_mapping()),
        )
        await app_store.update_app(conn, made.id, state="active", next_run_at=now() - timedelta(minutes=1))
    app = await _app(service, made.id)
    assert await due_app_ids(service) == [app.id]
    assert await claim(service, app, "scheduler:1", due_only=True), "still due: the scheduler claims it"
    await release(service, app, "scheduler:1")

    async with service.db.write() as conn:  # another process ran that due time: the next is later
        await app_store.update_app(conn, app.id, next_run_at=now() + timedelta(minutes=40))

    assert not await claim(service, app, "scheduler:2", due_only=True)
    assert await claim(service, app, "by-hand:1"), "a cycle asked for by hand runs when the lease is free"


async def test_a_stale_due_source_is_not_claimed_by_the_scheduler_but_is_by_hand(service: Service) -> None:
    await operations.add(service, "shared", "file", {}, {})
    source = await operations.get(service, "shared")
    async with service.db.write() as conn:
        await source_store.update_source(conn, source.id, next_read_at=now() - timedelta(minutes=1))
    assert await due_source_ids(service) == [source.id]
    async with service.db.write() as conn:
        assert await source_store.claim(conn, source.id, "scheduler:1", due_only=True)
        await source_store.release(conn, source.id, "scheduler:1")

    async with service.db.write() as conn:  # another process read it: the next read is later
        await source_store.update_source(conn, source.id, next_read_at=now() + timedelta(minutes=40))
        assert not await source_store.claim(conn, source.id, "scheduler:2", due_only=True)
        assert await source_store.claim(conn, source.id, "by-hand:1")


async def _app(service: Service, app_id: int) -> app_store.App:
    async with service.db.read() as conn:
        return await app_store.get_app_by_id(conn, app_id)
