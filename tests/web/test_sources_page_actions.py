"""A source's page: Test shows the CheckResult's message; Sync now reads under the lease (a click
and the scheduler never read one source twice) and the log records it; Settings save only what
changed and keep a secret left empty; Pause/Resume; Remove only with the typed name; the log
newest first, 50 a page. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations, read_log
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.scheduling import read_due
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import signed_in
from tests.web.sources_page import (
    database_kind,  # noqa: F401 - both databases for every test here
    file_source,
    graph_source,
    reads_of,
    said,
    settled,
    snapshot,
)


async def test_test_shows_the_check_results_message_in_place(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    folder = await file_source(service, tmp_path)
    before = await snapshot(site.db)
    passed = await site.client.post("/admin/sources/hr/test", data={"csrf_token": csrf})
    assert passed.status_code == 200
    assert f"Test succeeded: {folder.resolve()} is readable; newest file people.json" in said(passed)
    (folder / "people.json").unlink()
    folder.rmdir()
    failed = await site.client.post(
        "/admin/sources/hr/test", data={"csrf_token": csrf}, headers={"HX-Request": "true"}
    )
    assert failed.status_code == 200
    assert said(failed).strip() == f"Test failed: {folder.resolve()} is not a folder this process can read"
    assert await snapshot(site.db) == before  # a test reads nothing into the directory


async def test_sync_now_reads_in_the_background_and_the_log_records_the_read(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)
    answer = await site.client.post("/admin/sources/hr/sync", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/sources/hr?done=sync"
    described = await settled(service, "hr")
    assert (described["last_read"]["status"], described["last_read"]["kind"]) == ("ok", "full")
    async with service.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).where(dir_users.c.source == "hr")) == 2
    again = await site.client.post("/admin/sources/hr/sync", data={"csrf_token": csrf, "full": "1"})
    assert again.status_code == 303
    await settled(service, "hr")
    assert await reads_of(site.db) == [("admin", "full", "ok"), ("admin", "full", "ok")]
    page = said(await site.client.get("/admin/sources/hr"))
    assert "Full read ok" in page
    assert "2 / 0 / 0" in page  # the first read's users, in the log
    assert "0 / 0 / 0" in page  # the second's: nothing changed
    fragment = await site.client.get("/admin/sources/hr/status", headers={"HX-Request": "true"})
    assert fragment.status_code == 204  # no read runs: the page reloads to show the log
    assert fragment.headers["HX-Refresh"] == "true"


async def test_sync_now_while_another_process_reads_the_source_reads_nothing(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, "hr")
        assert await source_store.claim(conn, found.id, "other-host:4242:abcd")  # a serve, mid-read
        await source_store.update_source(conn, found.id, last_status="running")
    before = await snapshot(site.db)
    busy = await site.client.post("/admin/sources/hr/sync", data={"csrf_token": csrf})
    assert busy.status_code == 409
    assert "a read of hr is running in another process; try again when it ends" in said(busy)
    assert await snapshot(site.db) == before
    running = await site.client.get("/admin/sources/hr/status", headers={"HX-Request": "true"})
    assert running.status_code == 200
    assert 'hx-trigger="every 2s"' in running.text
    assert "Reading" in said(running)


async def test_a_click_and_the_schedulers_next_pass_read_a_due_source_once(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)  # due now: a new source is read at once
    assert (await operations.describe(service, "hr"))["next_read"]["state"] == "due"
    clicked = await site.client.post("/admin/sources/hr/sync", data={"csrf_token": csrf})
    assert clicked.status_code == 303
    assert await read_due(service) == 0  # the click holds the lease, or its read has moved the next read
    await settled(service, "hr")
    assert await read_due(service) == 0
    assert await reads_of(site.db) == [("admin", "full", "ok")]


async def test_settings_save_only_what_changed_and_keep_an_empty_secret(
    provisioning_site: Site, service: Service
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await graph_source(service)
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, "entra")
        await source_store.update_source(conn, found.id, cursor="deltaLink-1")
    sealed = found.sealed_secrets
    shown = {f["key"]: f["value"] for f in sources_fields(await operations.describe(service, "entra"))}
    untouched = await site.client.post(
        "/admin/sources/entra/settings", data={**shown, "client_secret": "", "csrf_token": csrf}
    )
    assert untouched.status_code == 303
    after = await stored(service)
    assert (after.sealed_secrets, after.cursor, after.settings) == (sealed, "deltaLink-1", found.settings)
    interval = await site.client.post(
        "/admin/sources/entra/settings", data={**shown, "interval_minutes": "15", "csrf_token": csrf}
    )
    assert interval.status_code == 303
    after = await stored(service)
    assert (after.interval_minutes, after.cursor, after.sealed_secrets) == (15, "deltaLink-1", sealed)
    scoped = await site.client.post(
        "/admin/sources/entra/settings",
        data={**shown, "interval_minutes": "15", "scope_groups": "g1, g2", "csrf_token": csrf},
    )
    assert scoped.status_code == 303
    after = await stored(service)
    assert after.settings["scope_groups"] == "g1, g2"
    assert after.cursor is None  # a changed setting: the next read is a full one
    rotated = await site.client.post(
        "/admin/sources/entra/settings",
        data={
            "client_secret": "new-secret-value",
            "other_key": "filters",
            "other_value": "a,b",
            "csrf_token": csrf,
        },
    )
    assert rotated.status_code == 303
    after = await stored(service)
    assert after.sealed_secrets not in (None, sealed)
    assert "new-secret-value" in service.secrets.open(after.sealed_secrets or "")
    assert after.settings["filters"] == ["a", "b"]


async def test_a_bad_setting_is_refused_with_its_message_and_changes_nothing(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)
    before = await snapshot(site.db)
    for form, message in (
        ({"interval_minutes": "0"}, "interval_minutes must be from 1 to 527,040, not 0"),
        ({"interval_minutes": "9" * 40}, "interval_minutes must be from 1 to 527,040"),
        ({"interval_minutes": "soon"}, "interval_minutes must be a whole number, not 'soon'"),
        ({"deletion_threshold": "-1"}, "deletion_threshold must be from 0 to 2,147,483,647, not -1"),
        ({"deletion_threshold": "9" * 40}, "deletion_threshold must be from 0"),
        ({"start_cycles_after_read": "maybe"}, "start_cycles_after_read must be true or false"),
        ({"other_value": "x"}, "give the setting's KEY"),
        (
            {"interval_minutes": "7", "deletion_threshold": "lots"},
            "deletion_threshold must be a whole number",
        ),
    ):
        answer = await site.client.post("/admin/sources/hr/settings", data={**form, "csrf_token": csrf})
        assert answer.status_code == 400, form
        assert message in said(answer), form
        assert "Nothing was saved." in said(answer)
    assert await snapshot(site.db) == before


async def test_pause_and_resume_change_the_state_and_the_next_read(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)
    paused = await site.client.post("/admin/sources/hr/pause", data={"csrf_token": csrf})
    assert paused.status_code == 303
    page = said(await site.client.get(paused.headers["location"]))
    assert "Paused: the source is not read on its interval" in page
    assert "Paused: not read on its interval" in page
    assert (await operations.describe(service, "hr"))["next_read"] == {"state": "paused", "at": None}
    resumed = await site.client.post("/admin/sources/hr/resume", data={"csrf_token": csrf})
    assert resumed.status_code == 303
    described = await operations.describe(service, "hr")
    assert (described["state"], described["next_read"]["state"]) == ("active", "due")


async def test_remove_needs_the_sources_name_typed_and_keeps_its_objects(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)
    await operations.sync(service, "hr", full=False)
    before = await snapshot(site.db)
    for typed in ("", "HR", "h r"):
        refused = await site.client.post(
            "/admin/sources/hr/remove", data={"confirm": typed, "csrf_token": csrf}
        )
        assert refused.status_code == 400
        assert "Type the source's name, hr, to remove it. Nothing was removed." in said(refused)
    assert await snapshot(site.db) == before
    removed = await site.client.post("/admin/sources/hr/remove", data={"confirm": "hr", "csrf_token": csrf})
    assert removed.status_code == 303
    assert removed.headers["location"] == "/admin/sources?done=removed"
    assert await operations.list_all(service) == []
    assert await reads_of(site.db) == []  # its log went with it
    async with service.db.read() as conn:
        kept = (await conn.execute(sa.select(dir_users.c.source))).scalars().all()
    assert kept == ["file", "file"]  # handed to the built-in owner, not deleted


async def test_the_log_shows_reads_newest_first_fifty_a_page(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    await signed_in(site)
    await file_source(service, tmp_path)
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, "hr")
        for i in range(55):
            read_id = await read_log.start(
                conn, found.id, f"h:1:{i}", trigger="schedule", requested="delta", moment=now()
            )
            await read_log.finish(
                conn, read_id, status="failed", error=f"failure number {i}", finished_at=now()
            )
    first = said(await site.client.get("/admin/sources/hr"))
    numbers = [int(n) for n in re.findall(r"failure number (\d+)", first)]
    assert numbers == list(range(54, 4, -1))
    next_link = re.search(
        r'href="(/admin/sources/hr\?after=[^"]+)"', (await site.client.get("/admin/sources/hr")).text
    )
    assert next_link
    second = said(await site.client.get(next_link.group(1).replace("&amp;", "&")))
    assert [int(n) for n in re.findall(r"failure number (\d+)", second)] == [4, 3, 2, 1, 0]


def sources_fields(described: dict[str, object]) -> list[dict[str, str]]:
    from enlist.provisioning.web.sources_view import settings_fields  # noqa: PLC0415

    return settings_fields(described)  # type: ignore[arg-type]


async def stored(service: Service) -> source_store.Source:
    async with service.db.read() as conn:
        return await source_store.get_source(conn, "entra")


async def test_shutting_the_service_down_leaves_no_read_running_and_the_lease_free(
    service: Service, tmp_path: Path
) -> None:
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415
    from tests.web.conftest import Site as SiteUnderTest  # noqa: PLC0415

    folder = await file_source(service, tmp_path)
    people = [{"userPrincipalName": f"p{i}@contoso.com"} for i in range(3000)]
    (folder / "people.json").write_text(json.dumps({"users": people}), encoding="utf-8")
    app = create_app(service.settings, scheduler=False, service=service)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://provisioning.test"
        ) as client,
    ):
        site = SiteUnderTest("provisioning", client, service.db, "/admin/apps", "enlist_provisioning_session")
        csrf = await signed_in(site)
        clicked = await client.post("/admin/sources/hr/sync", data={"csrf_token": csrf})
        assert clicked.status_code == 303
    # The read either ended before the shutdown or was stopped by it: never left running.
    async with service.db.read() as conn:
        found = await source_store.get_source(conn, "hr")
    assert found.lease_owner is None
    assert [status for _trigger, _kind, status in await reads_of(service.db)] in (["ok"], ["failed"])
    assert found.last_status in ("ok", "failed")
    if found.last_status == "failed":
        assert found.last_error is not None
        assert "stopped before it ended" in found.last_error
