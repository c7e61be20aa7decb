"""The provisioning pages in an admin's words: the log detail's headings and a skipped record's
Troubleshooting tab, counts with the right noun, no hand-made plurals in any template."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest

import enlist.provisioning.web as web_package
from enlist.cli.demo import DEMO_APP, DEMO_TENANT
from enlist.plural import plural
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import cycles
from enlist.provisioning.web.words import attr_name
from enlist.settings import Settings
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import APP, APP_PATH, create_app, signed_in, visible

TEMPLATES = Path(web_package.__file__).parent / "templates"
# A count printed straight before a plural noun, or a "(s)": what `plural` is for.
HAND_MADE_PLURAL = re.compile(
    r"\}\}\s+(users|groups|records|objects|members|cycles|changes|deletions|conflicts|sources|reads)\b|\w\(s\)"
)


def test_plural_says_one_user_and_two_users() -> None:
    assert [plural(n, "user") for n in (0, 1, 2, 1204)] == ["0 users", "1 user", "2 users", "1,204 users"]
    assert plural(1, "userPrincipalName conflict") == "1 userPrincipalName conflict"
    assert plural(3, "userPrincipalName conflict") == "3 userPrincipalName conflicts"
    assert plural(2, "entry") == "2 entries"
    assert plural(None, "record") == "0 records"


def test_no_provisioning_template_makes_a_plural_by_hand() -> None:
    found = [
        f"{t.name}: {m.group(0)}"
        for t in sorted(TEMPLATES.glob("*.html"))
        for m in HAND_MADE_PLURAL.finditer(t.read_text())
    ]
    assert found == []


def test_attribute_names_wrap_only_between_their_parts() -> None:
    urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
    shown = str(attr_name(urn))
    assert shown.replace("<wbr>", "") == urn
    assert "employeeNumber" in shown  # never split inside a word
    assert shown.count("<wbr>") == urn.count(":") + urn.count(".")
    assert str(attr_name("<b>")) == "&lt;b&gt;"


async def _skipped_record(site: Site) -> int:
    async with site.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        record = LogRecord("c1", "user", "s1", "ada@contoso.com", datetime(2026, 12, 1, tzinfo=UTC))
        record.action, record.status = "other", "skipped"
        record.step("EntryImport", "import", "success", "Received User 'ada@contoso.com'")
        record.step("EntrySynchronizationScoping", "scoping", "success", "Out of scope")
        record.step(
            "EntrySynchronizationSkip",
            "processing",
            "skipped",
            "the user is not assigned",
            SkipReason="NotEffectivelyEntitled",
        )
        await log_store.write(conn, app.id, [record])
        return int((await log_store.read(conn, app.id, log_store.LogFilter(limit=1)))[0]["id"])


async def test_a_skipped_records_detail_speaks_an_admins_words(provisioning_site: Site) -> None:
    site = provisioning_site
    await create_app(site, await signed_in(site))
    record_id = await _skipped_record(site)
    steps = visible(await site.client.get(f"{APP_PATH}/logs/{record_id}", params={"tab": "steps"}))
    for words in ("Read from the directory", "Checked scope", "Skipped: not assigned to the application"):
        assert words in steps
    for graph in ("EntryImport", "EntrySynchronizationScoping", "NotEffectivelyEntitled"):
        assert graph not in steps  # on hover (title) only, not as a heading
    troubleshooting = visible(
        await site.client.get(f"{APP_PATH}/logs/{record_id}", params={"tab": "troubleshooting"})
    )
    assert "Why it was skipped" in troubleshooting
    assert "not assigned to the application" in troubleshooting
    assert "assign the user or one of its groups" in troubleshooting
    assert "nothing to troubleshoot" not in troubleshooting
    exported = await site.client.get(f"{APP_PATH}/logs/download", params={"format": "json"})
    names = [s["name"] for s in orjson.loads(exported.content)[0]["steps"]]
    assert names == ["EntryImport", "EntrySynchronizationScoping", "EntrySynchronizationSkip"]
    as_csv = await site.client.get(f"{APP_PATH}/logs/download", params={"format": "csv"})
    header, row = as_csv.text.splitlines()[:2]
    assert header.endswith(",skip_reason,skip_explanation")
    assert ',NotEffectivelyEntitled,"Skipped: not assigned to the application. ' in row


async def _demo_like(site: Site, name: str, tenant_url: str) -> None:
    await create_app(site, await signed_in(site), name)
    async with site.db.write() as conn:
        app = await app_store.get_app(conn, name)
        await app_store.update_app(conn, app.id, tenant_url=tenant_url)
        await conn.execute(
            cycles.insert().values(
                id=str(uuid.uuid4()),
                app_id=app.id,
                kind="initial",
                status="succeeded",
                started_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
                finished_at=datetime(2026, 12, 1, 9, 1, tzinfo=UTC),
                counts={"created": 1, "skipped": 24, "failed": 0},
                progress_done=25,
                progress_total=25,
            )
        )


async def test_the_demo_applications_overview_says_what_make_run_did(
    provisioning_site: Site, settings: Settings
) -> None:
    site = provisioning_site
    await _demo_like(site, DEMO_APP, f"{settings.lms_public_url}/scim/v2/{DEMO_TENANT}")
    page = await site.client.get(f"/admin/apps/{quote(DEMO_APP, safe='')}/overview")
    shown = " ".join(visible(page).split())
    assert "What make run just did" in shown
    assert "1 user or group created in the portal (24 records skipped" in shown
    for link in (
        "/admin/directory/users",
        "/users-and-groups",
        "/logs?status=skipped",
        "/logs?action=create",
    ):
        assert f'{link}"' in page.text, link
    assert f'href="{settings.lms_public_url}/admin/tenants/{DEMO_TENANT}/users"' in page.text


@pytest.mark.parametrize(
    ("name", "tenant"), [(APP, "demo"), (DEMO_APP, "another-tenant")], ids=["own-app", "demo-app-elsewhere"]
)
async def test_no_other_application_shows_the_first_run_guide(
    provisioning_site: Site, settings: Settings, name: str, tenant: str
) -> None:
    site = provisioning_site
    await _demo_like(site, name, f"{settings.lms_public_url}/scim/v2/{tenant}")
    page = await site.client.get(f"/admin/apps/{quote(name, safe='')}/overview")
    assert page.status_code == 200
    assert "make run" not in page.text
