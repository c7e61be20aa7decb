"""The provisioning pages in an admin's words: the log detail's headings and a skipped record's
Troubleshooting tab, counts with the right noun, no hand-made plurals in any template."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson

import enlist.provisioning.web as web_package
from enlist.plural import plural
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.web.words import attr_name
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
