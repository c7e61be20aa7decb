"""Each source's own log (source_reads): every read recorded whoever ran it, with its outcome,
counts and errors; a read left running by a dead process closed by the next one; old reads
dropped; the scheduler's next-read rule agreeing with the reads the scheduler actually picks;
and migration 0006 going up and down. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.db.rows import now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations, read_log
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.apply import RoundHeldError
from enlist.provisioning.sources.model import SourceUnavailableError
from enlist.provisioning.sources.scheduling import due_source_ids, next_read, read_due
from enlist.provisioning.sources.tables import source_reads
from tests.integration.provisioning.test_sources_migration import empty_db, migrate  # noqa: F401


def drop(folder: Path, name: str, count: int) -> None:
    users = [{"userPrincipalName": f"u{i}@contoso.com"} for i in range(count)]
    (folder / name).write_text(json.dumps({"users": users}), encoding="utf-8")


async def hr(service: Service, tmp_path: Path) -> Path:
    folder = tmp_path / "hr"
    folder.mkdir()
    settings, secrets = operations.new_source_settings("file", path=str(folder))
    await operations.add(service, "hr", "file", settings, secrets)
    return folder


async def log(service: Service) -> list[read_log.ReadEntry]:
    async with service.db.read() as conn:
        found = await source_store.get_source(conn, "hr")
        return list(reversed(await read_log.page(conn, found.id, None, 100)))


async def test_every_read_is_recorded_with_its_trigger_kind_counts_and_outcome(
    service: Service, tmp_path: Path
) -> None:
    folder = await hr(service, tmp_path)
    drop(folder, "a.json", 10)
    assert await read_due(service) == 1  # the scheduler's read
    await operations.configure(service, "hr", {"deletion_threshold": "3"})
    drop(folder, "b.json", 5)  # removes 5: held
    with pytest.raises(RoundHeldError):
        await operations.sync(service, "hr", full=False)
    (folder / "b.json").unlink()
    (folder / "a.json").unlink()
    folder.rmdir()
    with pytest.raises(SourceUnavailableError):
        await operations.sync(service, "hr", full=True)
    entries = await log(service)
    assert [(e.trigger, e.requested, e.kind, e.status) for e in entries] == [
        ("schedule", "full", "full", "ok"),
        ("admin", "full", None, "held"),  # settings changed: the cursor went, so a full read
        ("admin", "full", None, "failed"),
    ]
    first, held, failed = entries
    assert first.counts is not None
    assert (first.counts["users_created"], first.records) == (10, 10)
    assert first.finished_at is not None
    assert first.duration_s is not None
    assert held.error is not None
    assert "deletion threshold" in held.error
    assert failed.error is not None
    assert "is not a folder" in failed.error
    described = await operations.describe(service, "hr")
    assert described["last_read"]["id"] == failed.id
    assert described["last_read"]["status"] == "failed"


async def test_a_read_left_running_by_a_dead_process_is_closed_by_the_next_read(
    service: Service, tmp_path: Path
) -> None:
    folder = await hr(service, tmp_path)
    drop(folder, "a.json", 2)
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, "hr")
        await read_log.start(conn, found.id, "gone:1:x", trigger="schedule", requested="full", moment=now())
    await operations.sync(service, "hr", full=False)
    entries = await log(service)
    assert [e.status for e in entries] == ["failed", "ok"]
    assert entries[0].error == read_log.ABANDONED


async def test_reads_older_than_thirty_days_are_dropped_when_the_source_is_next_read(
    service: Service, tmp_path: Path
) -> None:
    folder = await hr(service, tmp_path)
    drop(folder, "a.json", 1)
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, "hr")
        for age in (31, 29):
            moment = now() - timedelta(days=age)
            read_id = await read_log.start(
                conn, found.id, "h:1:x", trigger="schedule", requested="delta", moment=moment
            )
            await read_log.finish(conn, read_id, status="ok", finished_at=moment)
    await operations.sync(service, "hr", full=False)
    assert len(await log(service)) == 2  # the 29-day-old read and this one


async def test_the_next_read_rule_names_due_exactly_the_sources_the_scheduler_picks(
    service: Service, tmp_path: Path
) -> None:
    moment = now()
    cases = {
        "due": {"next_read_at": moment - timedelta(seconds=5)},
        "later": {"next_read_at": moment + timedelta(minutes=3)},
        "paused": {"state": "paused", "next_read_at": moment - timedelta(seconds=5)},
        "held": {"lease_owner": "h:1:x", "lease_expires_at": moment + timedelta(minutes=1)},
        "expired": {"lease_owner": "h:1:x", "lease_expires_at": moment - timedelta(seconds=1)},
    }
    for name, values in cases.items():
        await operations.add(service, name, "file", {"path": str(tmp_path)}, {})
        async with service.db.write() as conn:
            found = await source_store.get_source(conn, name)
            await source_store.update_source(
                conn, found.id, **{"next_read_at": moment - timedelta(seconds=5), **values}
            )
    picked = set(await due_source_ids(service))
    async with service.db.read() as conn:
        listed = await source_store.list_sources(conn)
    rule = {s.name: next_read(s, now()).state for s in listed}
    assert rule == {
        "due": "due",
        "later": "scheduled",
        "paused": "paused",
        "held": "running",
        "expired": "due",
    }
    assert {s.id for s in listed if rule[s.name] == "due"} == picked


async def test_migration_0006_adds_the_read_log_and_goes_down_again(empty_db: Database) -> None:  # noqa: F811
    await migrate(empty_db, "head")
    async with empty_db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(source_reads)) == 0
    await migrate(empty_db, "0005_push", down=True)
    async with empty_db.read() as conn:
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert "source_reads" not in tables
    assert "sources" in tables
    await migrate(empty_db, "head")
