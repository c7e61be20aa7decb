"""Every form of the provisioning pages: refused without a session and a CSRF token (changing
nothing), a bad input answered with a clear message (changing nothing), and a good one doing what
the matching `enlist provisioning` command does."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa
from starlette.routing import Route

from enlist.provisioning.directory.tables import dir_groups, dir_users
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord, Modified
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import assignments, cycles
from enlist.provisioning.web.site import build_site, routes
from enlist.web.pages import LOGIN_PATH
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import (
    APP,
    APP_PATH,
    create_app,
    ids,
    load_directory,
    signed_in,
    snapshot,
    visible,
)

POST_ROUTES = sorted(
    r.path.replace("{app}", "Learning%20portal").replace("{object:str}", "user")
    for r in routes(build_site())
    if isinstance(r, Route) and r.methods and "POST" in r.methods and r.path != LOGIN_PATH
)
# Fields that would change something, were the request accepted.
PAYLOAD = {
    "name": "Another app",
    "kind": "non-gallery",
    "item": "group:nope",
    "tenant_url": "http://127.0.0.1:9/scim",
    "secret_token": "t",
    "interval_minutes": "5",
    "target": "title",
    "source": "jobTitle",
    "scoping": "[]",
    "upn": "user1@contoso.com",
    "expression": "[mail]",
}


def test_the_parametrized_list_covers_every_form() -> None:
    assert len(POST_ROUTES) >= 16
    assert f"{APP_PATH}/provisioning/connect" in POST_ROUTES
    assert "/admin/directory/import" in POST_ROUTES


@pytest.mark.parametrize("path", POST_ROUTES)
async def test_a_form_without_session_or_csrf_token_is_refused_and_changes_nothing(
    provisioning_site: Site, path: str
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    before = await snapshot(site.db)
    cookies = dict(site.client.cookies)
    site.client.cookies.clear()
    anonymous = await site.client.post(path, data={**PAYLOAD, "csrf_token": csrf})
    assert anonymous.status_code == 401
    site.client.cookies.update(cookies)
    for token in (None, "", "forged-" + csrf[:10]):
        data = PAYLOAD if token is None else {**PAYLOAD, "csrf_token": token}
        refused = await site.client.post(path, data=data)
        assert refused.status_code == 403, (path, token)
        htmx = await site.client.post(
            path, data=PAYLOAD, headers={"X-CSRF-Token": "forged", "HX-Request": "true"}
        )
        assert htmx.status_code == 403
    assert await snapshot(site.db) == before


async def test_a_new_application_needs_a_name_and_the_non_gallery_choice(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    empty = await site.client.post(
        "/admin/apps", data={"name": " ", "kind": "non-gallery", "csrf_token": csrf}
    )
    assert empty.status_code == 400
    assert "an application needs a name of 1 to 200 characters" in empty.text
    slashed = await site.client.post(
        "/admin/apps", data={"name": "HR/Learning", "kind": "non-gallery", "csrf_token": csrf}
    )
    assert slashed.status_code == 400
    assert "cannot contain '/'" in visible(slashed)
    unchosen = await site.client.post("/admin/apps", data={"name": "Portal", "csrf_token": csrf})
    assert unchosen.status_code == 400
    assert "Non-gallery" in visible(unchosen)
    assert (await create_app(site, csrf, "Portal")).status_code == 303
    twice = await create_app(site, csrf, "PORTAL")
    assert twice.status_code == 400
    assert "an application named &#39;PORTAL&#39; exists already" in twice.text
    async with site.db.read() as conn:
        assert [a.name for a in await app_store.list_apps(conn)] == ["Portal"]


async def test_add_user_group_assigns_and_remove_unassigns(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    users = await ids(site.db, dir_users, dir_users.c.id, dir_users.c.upn)
    groups = await ids(site.db, dir_groups, dir_groups.c.id, dir_groups.c.display_name)
    picker = await site.client.get(f"{APP_PATH}/users-and-groups/picker", params={"q": "Sal"})
    assert f'data-pick="group:{groups["Sales team"]}"' in picker.text
    assert "Research" not in picker.text
    chosen = [f"group:{groups['Sales team']}", f"user:{users['user2@contoso.com']}"]
    answer = await site.client.post(
        f"{APP_PATH}/users-and-groups/assign", data={"item": chosen, "csrf_token": csrf}
    )
    assert answer.status_code == 303
    page = await site.client.get(answer.headers["location"])
    assert "Sales team" in page.text
    assert "user2@contoso.com" in page.text
    assert "Assigned. The next cycle provisions them." in page.text
    removed = await site.client.post(
        f"{APP_PATH}/users-and-groups/remove", data={"item": chosen[:1], "csrf_token": csrf}
    )
    assert removed.status_code == 303
    async with site.db.read() as conn:
        left = (await conn.execute(sa.select(assignments.c.kind, assignments.c.source_id))).all()
    assert left == [("user", users["user2@contoso.com"])]


async def test_assigning_nothing_or_an_unknown_id_changes_nothing(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    before = await snapshot(site.db)
    nothing = await site.client.post(f"{APP_PATH}/users-and-groups/assign", data={"csrf_token": csrf})
    assert nothing.status_code == 400
    assert "Select at least one user or group" in nothing.text
    users = await ids(site.db, dir_users, dir_users.c.id, dir_users.c.upn)
    unknown = await site.client.post(
        f"{APP_PATH}/users-and-groups/assign",
        data={"item": [f"user:{users['user1@contoso.com']}", "group:no-such-group"], "csrf_token": csrf},
    )
    assert unknown.status_code == 400
    assert "no user or group &#39;no-such-group&#39; in the directory" in unknown.text
    mangled = await site.client.post(
        f"{APP_PATH}/users-and-groups/assign", data={"item": "admin:1", "csrf_token": csrf}
    )
    assert mangled.status_code == 400
    assert await snapshot(site.db) == before


async def test_settings_are_validated_like_app_set_and_a_bad_value_changes_nothing(
    provisioning_site: Site,
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    page = await site.client.get(f"{APP_PATH}/provisioning")
    for label in (
        "Scope",
        "Schedule: minutes between cycles",
        "Dialect",
        "Notification email",
        "Accidental deletion threshold",
        "Scoping filters",
        "Mappings",
        "Expression tester",
    ):
        assert label in page.text, label
    form = {
        "csrf_token": csrf,
        "scope": "all",
        "interval_minutes": "0",
        "dialect": "entra",
        "max_concurrency": "2",
        "max_requests_per_second": "5",
        "timeout_seconds": "10",
        "notification_email": "ops@contoso.com",
        "deletion_threshold": "20",
        "log_retention_days": "7",
        "provision_groups": "1",
    }
    bad = await site.client.post(f"{APP_PATH}/provisioning/settings", data=form)
    assert bad.status_code == 400
    assert "interval_minutes must be a number from 1 to 525,600" in bad.text
    async with site.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).settings.interval_minutes == 40.0
    good = await site.client.post(
        f"{APP_PATH}/provisioning/settings", data={**form, "interval_minutes": "15"}
    )
    assert good.status_code == 303
    async with site.db.read() as conn:
        saved = (await app_store.get_app(conn, APP)).settings
    assert (saved.scope, saved.interval_minutes, saved.dialect, saved.deletion_threshold) == (
        "all",
        15.0,
        "entra",
        20,
    )
    assert (saved.notification_email, saved.provision_groups, saved.skip_out_of_scope_deletions) == (
        "ops@contoso.com",
        True,
        False,
    )


async def test_a_mapping_with_a_bad_expression_is_refused_with_its_position(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    async with site.db.read() as conn:
        before = (await app_store.get_app(conn, APP)).user_mapping
    bad = await site.client.post(
        f"{APP_PATH}/provisioning/mappings/user",
        data={
            "csrf_token": csrf,
            "target": "nickName",
            "kind": "expression",
            "source": 'Join(" ", [givenName]',
        },
    )
    assert bad.status_code == 400
    assert "Mapping refused" in bad.text
    assert "^ here (character" in bad.text
    async with site.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).user_mapping == before
    good = await site.client.post(
        f"{APP_PATH}/provisioning/mappings/user",
        data={
            "csrf_token": csrf,
            "target": "nickName",
            "kind": "expression",
            "source": 'Join(" ", [department], [jobTitle])',
        },
    )
    assert good.status_code == 303
    page = await site.client.get(f"{APP_PATH}/provisioning")
    assert "Join(&#34; &#34;, [department], [jobTitle])" in page.text
    edit = await site.client.get(f"{APP_PATH}/provisioning", params={"edit": "user:nickName"})
    assert "Edit attribute nickName" in edit.text
    removed = await site.client.post(
        f"{APP_PATH}/provisioning/mappings/user/remove", data={"csrf_token": csrf, "target": "nickName"}
    )
    assert removed.status_code == 303
    async with site.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).user_mapping == before


async def test_the_expression_tester_shows_a_users_value_or_the_error_position(
    provisioning_site: Site,
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    url = f"{APP_PATH}/provisioning/test-expression"
    value = await site.client.post(
        url,
        data={
            "csrf_token": csrf,
            "expression": 'Join(" ", [givenName], [surname])',
            "upn": "user3@contoso.com",
        },
        headers={"HX-Request": "true"},
    )
    assert "Given3 Sur3" in value.text
    broken = await site.client.post(
        url,
        data={"csrf_token": csrf, "expression": "Left([mail], ", "upn": ""},
        headers={"HX-Request": "true"},
    )
    assert 'role="alert"' in broken.text
    assert "^ here (character" in broken.text
    nobody = await site.client.post(
        url,
        data={"csrf_token": csrf, "expression": "[mail]", "upn": "ghost@contoso.com"},
        headers={"HX-Request": "true"},
    )
    assert "no user &#39;ghost@contoso.com&#39; in the directory" in nobody.text


async def test_the_expression_tester_stops_a_runaway_regex_and_says_to_simplify_it(
    provisioning_site: Site,
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    # "Given3" seven times and a "!": 43 characters that a backtracking engine splits 2^42 ways
    long_name = "Join(" + ", ".join(['""'] + ["[givenName]"] * 7 + ['"!"']) + ")"
    answers = []
    for _ in range(2):  # the tester answers again straight after: nothing is left running
        answer = await site.client.post(
            f"{APP_PATH}/provisioning/test-expression",
            data={
                "csrf_token": csrf,
                "expression": f'Replace({long_name}, , "^(\\w|\\w\\w)+$", , "x", , )',
                "upn": "user3@contoso.com",
            },
            headers={"HX-Request": "true"},
        )
        answers.append(answer)
    for answer in answers:
        assert answer.status_code == 200
        assert 'role="alert"' in answer.text
        assert "took longer than 100 ms on a 43-character value; simplify it" in answer.text


async def test_scoping_filters_are_checked_before_they_are_saved(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    url = f"{APP_PATH}/provisioning/scoping"
    for document, message in (
        ("[{", "not JSON"),
        (
            '[{"title": "x", "clauses": [{"attribute": "department", "operator": "EQUAL", "value": "Sales"}]}]',
            "unknown scoping operator",
        ),
    ):
        bad = await site.client.post(url, data={"csrf_token": csrf, "scoping": document})
        assert bad.status_code == 400
        assert message in bad.text
    async with site.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).scoping == []
    filters = [
        {"title": "Sales", "clauses": [{"attribute": "department", "operator": "EQUALS", "value": "Sales"}]}
    ]
    good = await site.client.post(url, data={"csrf_token": csrf, "scoping": orjson.dumps(filters).decode()})
    assert good.status_code == 303
    async with site.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).scoping[0]["title"] == "Sales"


async def test_start_needs_a_connection_and_pause_and_restart_change_the_state(
    provisioning_site: Site,
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    refused = await site.client.post(f"{APP_PATH}/start", data={"csrf_token": csrf})
    assert refused.status_code == 400
    assert "is not connected" in refused.text
    async with site.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        await app_store.connect(conn, app, "http://127.0.0.1:9/scim", "sealed-for-the-test")
    started = await site.client.post(f"{APP_PATH}/start", data={"csrf_token": csrf})
    assert started.status_code == 303
    overview = await site.client.get(started.headers["location"])
    assert "Provisioning started" in overview.text
    assert 'hx-trigger="every 2s"' in overview.text  # a cycle is due: the page polls
    paused = await site.client.post(f"{APP_PATH}/pause", data={"csrf_token": csrf})
    assert paused.status_code == 303
    overview = await site.client.get(f"{APP_PATH}/overview")
    assert 'hx-trigger="every 2s"' not in overview.text
    async with site.db.write() as conn:
        await app_store.update_app(conn, app.id, watermark=42)
    assert (await site.client.post(f"{APP_PATH}/restart", data={"csrf_token": csrf})).status_code == 303
    async with site.db.read() as conn:
        restarted = await app_store.get_app(conn, APP)
    assert (restarted.state, restarted.watermark) == ("active", None)


async def test_the_overview_shows_progress_counts_quarantine_and_the_chart(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    moment = datetime.now(UTC)
    async with site.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        await app_store.update_app(
            conn,
            app.id,
            state="quarantined",
            quarantine={
                "reason": "EncounteredQuarantineException",
                "message": "401 from the target",
                "since": moment.isoformat(),
            },
        )
        for i in range(3):
            await conn.execute(
                cycles.insert().values(
                    id=str(uuid.uuid4()),
                    app_id=app.id,
                    kind="initial" if i == 0 else "incremental",
                    status="completed",
                    started_at=moment - timedelta(hours=3 - i),
                    finished_at=moment - timedelta(hours=3 - i, minutes=-1),
                    counts={"created": 10 * (i + 1), "updated": 2, "failed": i},
                    progress_done=5,
                    progress_total=5,
                )
            )
        await conn.execute(
            cycles.insert().values(
                id=str(uuid.uuid4()),
                app_id=app.id,
                kind="incremental",
                status="running",
                started_at=moment,
                counts={},
                progress_done=7,
                progress_total=20,
            )
        )
    status = await site.client.get(f"{APP_PATH}/overview/status", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in status.text
    assert '<progress id="cycle-progress" max="20" value="7">' in status.text
    assert "Incremental cycle in progress" in status.text
    assert "Quarantined: EncounteredQuarantineException" in status.text
    overview = await site.client.get(f"{APP_PATH}/overview")
    assert "<svg" in overview.text
    assert '<title id="cycles-chart-title">' in overview.text
    assert (
        '<td class="num">32</td><td class="num">2</td>' in overview.text
    )  # last: 30 created + 2 updated, 2 failed


async def _records(site: Site) -> None:
    async with site.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        records = []
        for i in range(60):
            r = LogRecord(
                cycle_id="c1",
                object_kind="user",
                source_id=f"s{i}",
                source_name=f"user{i}@contoso.com",
                at=base + timedelta(minutes=i),
                action="create" if i % 2 else "update",
                target_id=f"t{i}",
            )
            r.step("Import", "import", "success", f"Received User 'user{i}@contoso.com'")
            r.modified.append(Modified("displayName", f"Old {i}", f"New {i}"))
            if i % 10 == 0:
                r.fail(
                    "SystemForCrossDomainIdentityManagementBadRequest",
                    "the portal said 400",
                    "Fix the mapping.",
                )
            records.append(r)
        await log_store.write(conn, app.id, records)


async def test_the_logs_page_filters_pages_and_shows_a_records_detail(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    await _records(site)
    first = await site.client.get(f"{APP_PATH}/logs")
    assert first.text.index("user59@contoso.com") < first.text.index("user58@contoso.com")  # newest first
    assert "user9@contoso.com" not in first.text  # 50 a page
    assert 'rel="next"' in first.text
    failures = await site.client.get(f"{APP_PATH}/logs", params={"status": "failure"})
    assert visible(failures).count("@contoso.com") == 6
    since = await site.client.get(
        f"{APP_PATH}/logs", params={"since": "2026-11-01T09:55", "identity": "USER5"}
    )
    assert [n for n in ("user55", "user56", "user59", "user54", "user5@") if f"{n}" in since.text] == [
        "user55",
        "user56",
        "user59",
    ]
    bad = await site.client.get(f"{APP_PATH}/logs", params={"since": "yesterday"})
    assert bad.status_code == 400
    assert (
        "since must be an ISO 8601 date and time, for example 2026-11-27T09:00, not &#39;yesterday&#39;"
        in bad.text
    )
    record_id = int(re.findall(rf"{APP_PATH}/logs/(\d+)", first.text)[0])
    tabs = {
        "steps": "Received User",
        "troubleshooting": "No errors",
        "modified": "New 59",
        "summary": "c1",
    }
    for tab, expected in tabs.items():
        panel = await site.client.get(
            f"{APP_PATH}/logs/{record_id}", params={"tab": tab}, headers={"HX-Request": "true"}
        )
        assert expected in panel.text, tab
        assert "<html" not in panel.text
    for label in ("Steps", "Troubleshooting &amp; recommendations", "Modified properties", "Summary"):
        assert label in panel.text
    failed = await site.client.get(f"{APP_PATH}/logs/{record_id - 9}", params={"tab": "troubleshooting"})
    assert "SystemForCrossDomainIdentityManagementBadRequest" in failed.text
    assert (await site.client.get(f"{APP_PATH}/logs/999999")).status_code == 404


async def test_download_streams_the_filtered_records_as_json_or_csv(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    await _records(site)
    as_json = await site.client.get(
        f"{APP_PATH}/logs/download", params={"format": "json", "status": "failure"}
    )
    assert as_json.headers["content-disposition"].startswith("attachment;")
    records = orjson.loads(as_json.content)
    assert [r["source_name"] for r in records] == [f"user{i}@contoso.com" for i in (50, 40, 30, 20, 10, 0)]
    as_csv = await site.client.get(f"{APP_PATH}/logs/download", params={"format": "csv"})
    lines = as_csv.text.splitlines()
    assert lines[0].startswith("id,at,cycle_id")
    assert len(lines) == 61
    assert (await site.client.get(f"{APP_PATH}/logs/download", params={"format": "xml"})).status_code == 400


async def test_import_loads_a_file_and_a_bad_file_changes_nothing(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    good = orjson.dumps(
        {
            "users": [{"userPrincipalName": "ann@contoso.com", "displayName": "Ann"}],
            "groups": [{"displayName": "Pilots", "members": ["ann@contoso.com"]}],
        }
    )
    answer = await site.client.post(
        "/admin/directory/import",
        data={"csrf_token": csrf},
        files={"file": ("dir.json", good, "application/json")},
    )
    assert answer.status_code == 200
    assert "users created: 1" in answer.text
    before = await snapshot(site.db)
    bad = await site.client.post(
        "/admin/directory/import",
        data={"csrf_token": csrf},
        files={
            "file": (
                "users.csv",
                b"userPrincipalName,displayName\n,Nobody\nbob@contoso.com,Bob\n",
                "text/csv",
            )
        },
    )
    assert bad.status_code == 400
    assert "users.csv: nothing was imported." in bad.text
    assert "line 2" in bad.text
    not_text = await site.client.post(
        "/admin/directory/import",
        data={"csrf_token": csrf},
        files={"file": ("x.json", b'{"users": [{"displayName": "Andr\xe9"}]}', "application/json")},
    )
    assert "is not UTF-8 text" in not_text.text
    assert await snapshot(site.db) == before
    users = await site.client.get("/admin/directory/users", params={"q": "ann"})
    assert "ann@contoso.com" in users.text
