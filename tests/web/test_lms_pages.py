"""The portal's admin pages for a signed-in admin: each shows its data and does what the CLI does."""

from __future__ import annotations

import html
import re

import orjson
import pytest
import sqlalchemy as sa

from enlist.lms.api.runtime import Portal
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import departments, secret_tokens, tenants
from tests.helpers import ENTERPRISE, ScimTenant, make_tenant
from tests.web.conftest import Site
from tests.web.session import csrf_of, make_admin, sign_in

CUSTOM = "urn:contoso:params:scim:schemas:extension:training:2.0:User"


@pytest.fixture
async def site(portal_site: Site) -> Site:
    await make_admin(portal_site.db)
    await sign_in(portal_site.client)
    return portal_site


@pytest.fixture
async def acme(site: Site, portal: Portal) -> ScimTenant:
    return await make_tenant(portal, site.client, "acme")


async def csrf(site: Site) -> str:
    return csrf_of(await site.client.get("/admin/tenants"))


def field_value(page: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}" type="text" readonly value="([^"]*)"', page)
    assert found, f"no field {field_id}"
    return html.unescape(found.group(1))


async def test_the_tenants_page_lists_the_tenants_and_links_their_pages(site: Site, acme: ScimTenant) -> None:
    page = await site.client.get("/admin/tenants")
    assert page.status_code == 200
    assert 'href="/admin/tenants/acme/sync"' in page.text
    assert "New tenant" in page.text


async def test_new_tenant_lands_on_user_synchronization_showing_the_first_token_once(site: Site) -> None:
    answer = await site.client.post(
        "/admin/tenants", data={"name": "Contoso Learning", "csrf_token": await csrf(site)}
    )
    assert answer.status_code == 200
    assert "User synchronization" in answer.text
    assert "Microsoft Entra ID" in answer.text
    assert "it will not be shown again" in answer.text
    assert field_value(answer.text, "tenant-url") == "http://portal.test/scim/v2/contoso-learning"
    token = field_value(answer.text, "secret-token")
    assert token.startswith("enl_")
    assert 'href="/admin/tenants/contoso-learning/users"' in answer.text  # the new tenant's navigation
    scim = await site.client.get(
        "/scim/v2/contoso-learning/Users", headers={"Authorization": f"Bearer {token}"}
    )
    assert scim.status_code == 200
    again = await site.client.get("/admin/tenants/contoso-learning/sync")
    assert token not in again.text
    assert "shown only once" in again.text


@pytest.mark.parametrize(
    ("name", "message"), [("   ", "Give the new tenant a name"), ("!!!", "must contain a letter or digit")]
)
async def test_a_bad_tenant_name_is_refused_and_creates_nothing(site: Site, name: str, message: str) -> None:
    answer = await site.client.post("/admin/tenants", data={"name": name, "csrf_token": await csrf(site)})
    assert answer.status_code == 400
    assert message in answer.text
    async with site.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(tenants)) == 0


async def test_an_existing_tenant_name_is_refused(site: Site, acme: ScimTenant) -> None:
    answer = await site.client.post("/admin/tenants", data={"name": "ACME", "csrf_token": await csrf(site)})
    assert answer.status_code == 400
    assert "exists already" in answer.text


async def test_the_sync_page_shows_the_tenant_url_counts_and_tokens_but_never_a_token(
    site: Site, acme: ScimTenant
) -> None:
    await acme.create_user("pat@acme.example")
    sam = await acme.create_user("sam@acme.example")
    await acme.patch(f"/Users/{sam['id']}", [{"op": "replace", "path": "active", "value": False}])
    page = await site.client.get("/admin/tenants/acme/sync")
    assert page.status_code == 200
    assert field_value(page.text, "tenant-url") == "http://portal.test/scim/v2/acme"
    assert 'id="count-active">1<' in page.text
    assert 'id="count-inactive">1<' in page.text
    assert 'id="count-terminated">0<' in page.text
    assert "(no seat limit)" in page.text
    key_id, secret = acme.token.removeprefix("enl_")[:12], acme.token[17:]
    assert key_id in page.text  # the public key id, in the token list
    assert secret not in page.text
    assert "Regenerate" in page.text
    assert "Revoke all tokens" in page.text
    async with site.db.read() as conn:
        digest = await conn.scalar(sa.select(secret_tokens.c.digest))
    assert digest
    assert digest not in page.text


async def test_regenerate_shows_the_new_token_once_and_the_old_one_works_for_the_overlap(
    site: Site, acme: ScimTenant
) -> None:
    page = await site.client.get("/admin/tenants/acme/sync")
    assert "keeps working" in page.text  # the confirmation explains the overlap window
    answer = await site.client.post(
        "/admin/tenants/acme/sync/token", data={"overlap_hours": "2", "csrf_token": csrf_of(page)}
    )
    assert answer.status_code == 200
    assert "no-store" in answer.headers["cache-control"]
    new = field_value(answer.text, "secret-token")
    assert new != acme.token
    assert "keeps working for 2 hours" in answer.text
    for token in (acme.token, new):  # both open SCIM during the overlap
        scim = await site.client.get("/scim/v2/acme/Users", headers={"Authorization": f"Bearer {token}"})
        assert scim.status_code == 200
    async with site.db.read() as conn:
        rows = (await conn.execute(sa.select(secret_tokens.c.expires_at).order_by(secret_tokens.c.id))).all()
    assert rows[0].expires_at is not None
    assert rows[1].expires_at is None


async def test_regenerate_with_no_overlap_stops_the_old_token_at_once(site: Site, acme: ScimTenant) -> None:
    answer = await site.client.post(
        "/admin/tenants/acme/sync/token", data={"overlap_hours": "0", "csrf_token": await csrf(site)}
    )
    new = field_value(answer.text, "secret-token")
    old = await site.client.get("/scim/v2/acme/Users", headers={"Authorization": f"Bearer {acme.token}"})
    assert old.status_code == 401
    fresh = await site.client.get("/scim/v2/acme/Users", headers={"Authorization": f"Bearer {new}"})
    assert fresh.status_code == 200


@pytest.mark.parametrize("overlap", ["-1", "abc", "nan", "inf", "9000"])
async def test_a_bad_overlap_is_refused_and_mints_nothing(site: Site, acme: ScimTenant, overlap: str) -> None:
    answer = await site.client.post(
        "/admin/tenants/acme/sync/token", data={"overlap_hours": overlap, "csrf_token": await csrf(site)}
    )
    assert answer.status_code == 400
    assert "the overlap must be" in answer.text
    assert 'id="secret-token"' not in answer.text
    async with site.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(secret_tokens)) == 1
        assert await conn.scalar(sa.select(secret_tokens.c.expires_at)) is None


async def test_revoke_all_tokens_stops_every_token(site: Site, acme: ScimTenant) -> None:
    answer = await site.client.post("/admin/tenants/acme/sync/revoke", data={"csrf_token": await csrf(site)})
    assert answer.status_code == 303
    page = await site.client.get(answer.headers["location"])
    assert "Every Secret token of this tenant is revoked" in page.text
    assert "Generate token" in page.text
    scim = await site.client.get("/scim/v2/acme/Users", headers={"Authorization": f"Bearer {acme.token}"})
    assert scim.status_code == 401


async def test_settings_are_saved_like_tenant_set(site: Site, acme: ScimTenant) -> None:
    form = {
        "csrf_token": await csrf(site),
        "group_mode": "groups",
        "placement": "Sales*, Engineering",
        "tie_break": "oldest",
        "delete_policy": "erase",
        "seat_limit": "500",
        "required_fields_shown": "1",
        "token_overlap_hours": "6",
        "log_retention_days": "30",
    }
    data = {**form, "required_fields": ["email", "externalId"]}
    answer = await site.client.post("/admin/tenants/acme/sync/settings", data=data)
    assert answer.status_code == 303
    async with site.db.read() as conn:
        policy = (await tenant_store.get_tenant(conn, "acme")).policy
    assert policy.group_mode == "groups"
    assert policy.placement == ("Sales*", "Engineering")
    assert policy.tie_break == "oldest"
    assert policy.delete_policy == "erase"
    assert policy.seat_limit == 500
    assert policy.required_fields == ("email", "externalId")
    assert policy.token_overlap_hours == 6
    assert policy.log_retention_days == 30
    page = await site.client.get(answer.headers["location"])
    assert "Settings saved." in page.text
    assert 'id="seats">0 of 500<' in page.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seat_limit", "lots", "seat_limit must be a number, not &#39;lots&#39;"),
        ("group_mode", "sideways", "group_mode must be one of departments, groups, both"),
        ("log_retention_days", "0", "log_retention_days must be at least 1"),
        ("token_overlap_hours", "nan", "token_overlap_hours must be between 0 and 8784"),
        ("required_fields", "shoe size", "required_fields: shoe size cannot be required"),
    ],
)
async def test_a_bad_setting_shows_the_cli_message_and_changes_nothing(
    site: Site, acme: ScimTenant, field: str, value: str, message: str
) -> None:
    form = {"csrf_token": await csrf(site), "seat_limit": "10", "delete_policy": "erase", field: value}
    if field == "required_fields":
        form["required_fields_shown"] = "1"
    answer = await site.client.post("/admin/tenants/acme/sync/settings", data=form)
    assert answer.status_code == 400
    assert message in answer.text
    assert "Nothing was changed." in answer.text
    async with site.db.read() as conn:
        stored = await conn.scalar(sa.select(tenants.c.policy))
    assert stored == acme.tenant.policy.to_json()


async def test_no_page_after_the_token_was_shown_contains_it(site: Site, acme: ScimTenant) -> None:
    user = await acme.create_user("pat@acme.example")
    answer = await site.client.post(
        "/admin/tenants/acme/sync/token", data={"overlap_hours": "1", "csrf_token": await csrf(site)}
    )
    token = field_value(answer.text, "secret-token")
    secret = token[len("enl_") + 13 :]
    assert len(secret) > 30
    assert "location" not in answer.headers
    later = [
        "/admin/tenants",
        "/admin/tenants/acme/sync",
        "/admin/tenants/acme/users",
        f"/admin/tenants/acme/users/{user['id']}",
        "/admin/tenants/acme/departments",
        "/admin/tenants/acme/groups",
        "/admin/tenants/acme/log",
        "/admin/tenants/acme/log/export?format=jsonl",
    ]
    for path in later:
        page = await site.client.get(path)
        assert page.status_code == 200, path
        assert token not in page.text, path
        assert secret not in page.text, path
    async with site.db.read() as conn:
        stored = (await conn.execute(sa.text("SELECT * FROM admin_sessions"))).all()
    assert secret not in repr(stored)


async def test_users_are_listed_in_login_order_with_search_status_filter_and_paging(
    site: Site, acme: ScimTenant
) -> None:
    for i in range(52):
        await acme.create_user(f"user{i:02d}@acme.example", displayName=f"Person {i:02d}")
    zoe = await acme.create_user(
        "zoe@acme.example", displayName="Zoe Quinn", emails=[{"value": "zq@mail.example"}]
    )
    await acme.patch(f"/Users/{zoe['id']}", [{"op": "replace", "path": "active", "value": False}])
    first = await site.client.get("/admin/tenants/acme/users")
    assert first.status_code == 200
    logins = re.findall(r'/users/[0-9a-f-]+">([^<]+)</a>', first.text)
    assert logins == sorted(logins)
    assert len(logins) == 50
    assert "53 users" in first.text
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following
    second = await site.client.get(html.unescape(following.group(1)))
    rest = re.findall(r'/users/[0-9a-f-]+">([^<]+)</a>', second.text)
    assert rest == ["user50@acme.example", "user51@acme.example", "zoe@acme.example"]
    assert 'rel="next"' not in second.text
    for query in ({"q": "ZOE"}, {"q": "zoe q"}, {"q": "zq@"}, {"status": "inactive"}):
        found = await site.client.get("/admin/tenants/acme/users", params=query)
        assert re.findall(r'/users/[0-9a-f-]+">([^<]+)</a>', found.text) == ["zoe@acme.example"], query
    none = await site.client.get("/admin/tenants/acme/users", params={"q": "nobody"})
    assert "No user matches these filters" in none.text


async def test_a_users_page_shows_profile_department_groups_manager_and_history(
    site: Site, acme: ScimTenant
) -> None:
    boss = await acme.create_user("boss@acme.example", displayName="The Boss")
    pat = await acme.create_user(
        "pat@acme.example",
        displayName="Pat Doe",
        title="Engineer",
        schemas=["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, CUSTOM],
        **{ENTERPRISE: {"manager": {"value": boss["id"]}, "employeeNumber": "E42"}, CUSTOM: {"badge": "B-7"}},
    )
    sales = await acme.create_group("Sales", [pat["id"]])
    await acme.patch(f"/Users/{pat['id']}", [{"op": "replace", "path": "title", "value": "Lead engineer"}])
    page = await site.client.get(f"/admin/tenants/acme/users/{pat['id']}")
    assert page.status_code == 200
    text = page.text
    assert "Pat Doe" in text
    assert "E42" in text
    assert f"{CUSTOM}:badge" in re.sub(r"</?span>|<wbr>", "", text)
    assert "B-7" in text
    assert f'href="/admin/tenants/acme/users/{boss["id"]}" id="manager-link">boss@acme.example<' in text
    assert f'href="/admin/tenants/acme/groups/{sales["id"]}">Sales<' in text
    assert 'id="department-link">Sales<' in text  # group mode both: the group became a department
    assert (
        '<td class="old" data-label="Old value"><span class="value-line">Engineer</span></td>'
        '<td class="new" data-label="New value"><span class="value-line">Lead engineer</span></td>'
    ) in text
    assert "badge-active" in text
    missing = await site.client.get("/admin/tenants/acme/users/not-a-user")
    assert missing.status_code == 404


async def test_departments_show_as_a_tree_and_are_created_and_moved_like_the_cli(
    site: Site, acme: ScimTenant
) -> None:
    token = await csrf(site)
    made = await site.client.post(
        "/admin/tenants/acme/departments", data={"name": "Engineering", "parent": "", "csrf_token": token}
    )
    assert made.status_code == 303
    async with site.db.read() as conn:
        engineering = await conn.scalar(
            sa.select(departments.c.id).where(departments.c.name == "Engineering")
        )
    await site.client.post(
        "/admin/tenants/acme/departments",
        data={"name": "Platform", "parent": engineering, "csrf_token": token},
    )
    await acme.create_user("pat@acme.example")
    page = await site.client.get("/admin/tenants/acme/departments")
    assert page.status_code == 200
    assert re.search(r"acme</a>\s*<span class=\"count\">1 person</span>", page.text)
    assert re.search(
        r"Engineering</a>\s*<span class=\"count\">0 people</span>\s*<ul>\s*<li><a [^>]+>Platform", page.text
    )
    assert f'href="/admin/tenants/acme/users?department={engineering}"' in page.text
    async with site.db.read() as conn:
        platform = await conn.scalar(sa.select(departments.c.id).where(departments.c.name == "Platform"))
    cycle = await site.client.post(
        "/admin/tenants/acme/departments/move",
        data={"department": engineering, "parent": platform, "csrf_token": token},
    )
    assert cycle.status_code == 400
    assert "one of its own sub-departments" in html.unescape(cycle.text)
    blank = await site.client.post(
        "/admin/tenants/acme/departments", data={"name": "  ", "parent": engineering, "csrf_token": token}
    )
    assert blank.status_code == 400
    assert "a department needs a name that is not blank" in blank.text
    moved = await site.client.post(
        "/admin/tenants/acme/departments/move",
        data={"department": platform, "parent": acme.tenant.root_department_id, "csrf_token": token},
    )
    assert moved.status_code == 303
    async with site.db.read() as conn:
        parents = dict((await conn.execute(sa.select(departments.c.name, departments.c.parent_id))).all())
    assert parents["Platform"] == acme.tenant.root_department_id
    assert len(parents) == 3


async def test_groups_are_listed_and_a_group_shows_its_members_paged(site: Site, acme: ScimTenant) -> None:
    ids = [(await acme.create_user(f"m{i:02d}@acme.example"))["id"] for i in range(55)]
    group = await acme.create_group("Everyone", ids)
    await acme.create_group("Empty")
    listing = await site.client.get("/admin/tenants/acme/groups")
    assert listing.status_code == 200
    assert re.search(r"Everyone</a></td><td class=\"num\" data-label=\"Members\">55<", listing.text)
    assert "2 groups" in listing.text
    searched = await site.client.get("/admin/tenants/acme/groups", params={"q": "emp"})
    assert "Empty" in searched.text
    assert "Everyone" not in searched.text
    first = await site.client.get(f"/admin/tenants/acme/groups/{group['id']}")
    assert 'id="member-count">55<' in first.text
    shown = re.findall(r'/users/[0-9a-f-]+">([^<]+)</a>', first.text)
    assert len(shown) == 50
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following
    second = await site.client.get(html.unescape(following.group(1)))
    rest = re.findall(r'/users/[0-9a-f-]+">([^<]+)</a>', second.text)
    assert len(rest) == 5
    assert set(shown).isdisjoint(rest)


async def test_the_sync_log_filters_opens_an_entry_and_exports_what_it_shows(
    site: Site, acme: ScimTenant
) -> None:
    pat = await acme.create_user("pat@acme.example", title="Engineer")
    await acme.patch(f"/Users/{pat['id']}", [{"op": "replace", "path": "title", "value": "Lead"}])
    clash = await acme.post(
        "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "pat@acme.example"}
    )
    assert clash.status_code == 409
    await acme.create_group("Sales")
    page = await site.client.get("/admin/tenants/acme/log")
    assert page.status_code == 200
    entries = re.findall(r'href="/admin/tenants/acme/log/(\d+)"', page.text)
    assert len(entries) == 4
    assert [int(e) for e in entries] == sorted((int(e) for e in entries), reverse=True)  # newest first
    failures = await site.client.get("/admin/tenants/acme/log", params={"status": "failure"})
    assert len(re.findall(r'href="/admin/tenants/acme/log/(\d+)"', failures.text)) == 1
    groups = await site.client.get("/admin/tenants/acme/log", params={"resource_type": "Group"})
    assert len(re.findall(r'href="/admin/tenants/acme/log/(\d+)"', groups.text)) == 1
    text = await site.client.get("/admin/tenants/acme/log", params={"q": "PAT@"})
    assert len(re.findall(r'href="/admin/tenants/acme/log/(\d+)"', text.text)) == 3
    future = await site.client.get("/admin/tenants/acme/log", params={"since": "2999-01-01T00:00"})
    assert "No entry matches these filters" in future.text
    bad = await site.client.get("/admin/tenants/acme/log", params={"status": "maybe"})
    assert bad.status_code == 400
    assert "status must be success, failure or an HTTP status code" in bad.text
    detail = await site.client.get(f"/admin/tenants/acme/log/{entries[2]}")  # the PATCH
    assert detail.status_code == 200
    assert "PATCH" in detail.text
    assert (
        '<td class="old" data-label="Old value"><span class="value-line">Engineer</span></td>'
        '<td class="new" data-label="New value"><span class="value-line">Lead</span></td>'
    ) in detail.text
    assert " ms</dd>" in detail.text
    conflict = await site.client.get(f"/admin/tenants/acme/log/{entries[1]}")
    assert "409" in conflict.text
    csv = await site.client.get(
        "/admin/tenants/acme/log/export", params={"format": "csv", "status": "success"}
    )
    assert csv.status_code == 200
    assert csv.headers["content-disposition"] == 'attachment; filename="acme-sync-log.csv"'
    lines = csv.text.splitlines()
    assert lines[0].startswith("id,at,method,path,status")
    assert len(lines) == 4
    jsonl = await site.client.get("/admin/tenants/acme/log/export", params={"format": "jsonl"})
    rows = [orjson.loads(line) for line in jsonl.text.splitlines()]
    assert [r["id"] for r in rows] == [int(e) for e in entries]
    assert (await site.client.get(f"/admin/tenants/acme/log/{int(entries[0]) + 100}")).status_code == 404


async def test_empty_pages_say_what_to_do_next(site: Site, acme: ScimTenant) -> None:
    for path, hint in [
        ("users", "Users arrive when Microsoft Entra ID provisions them"),
        ("groups", "No groups yet."),
        ("log", "No SCIM changes yet."),
        ("departments", "Only the root department exists"),
    ]:
        page = await site.client.get(f"/admin/tenants/acme/{path}")
        assert hint in page.text, path


async def test_the_user_page_shows_a_pending_manager_as_unresolved_until_the_manager_arrives(
    site: Site, portal: Portal, acme: ScimTenant
) -> None:
    async with portal.db.write() as conn:
        tenant = await tenant_store.get_tenant(conn, "acme")
        await tenant_store.save_policy(conn, tenant, tenant.policy.with_changes({"unknown_managers": "keep"}))
    pat = await acme.create_user("pat@acme.example", **{ENTERPRISE: {"manager": {"value": "00uBOSS"}}})
    page = await site.client.get(f"/admin/tenants/acme/users/{pat['id']}")
    assert page.status_code == 200
    assert '<span id="manager-pending">00uBOSS</span> (unresolved' in page.text
    assert 'id="manager-link"' not in page.text
    boss = await acme.create_user("boss@acme.example", externalId="00uBOSS")
    page = await site.client.get(f"/admin/tenants/acme/users/{pat['id']}")
    assert f'href="/admin/tenants/acme/users/{boss["id"]}" id="manager-link">boss@acme.example<' in page.text
    assert "manager-pending" not in page.text
