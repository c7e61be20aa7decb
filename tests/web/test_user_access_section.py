"""The user's page says which roles and smart groups the rules give the user, and why."""

from __future__ import annotations

import html

import pytest

from enlist.lms import operations, role_operations
from enlist.lms.api.runtime import Portal
from tests.helpers import GROUP, USER, ScimTenant, make_tenant
from tests.web.conftest import Site
from tests.web.session import csrf_of, make_admin, sign_in


@pytest.fixture
async def site(portal_site: Site) -> Site:
    await make_admin(portal_site.db)
    await sign_in(portal_site.client)
    return portal_site


@pytest.fixture
async def acme(site: Site, portal: Portal) -> ScimTenant:
    return await make_tenant(portal, site.client, "acme")


def section(page: str) -> str:
    start = page.index('id="access"')
    return html.unescape(page[start : page.index("</section>", start)])


async def test_the_user_page_shows_each_role_and_smart_group_with_its_reason(
    site: Site, portal: Portal, acme: ScimTenant
) -> None:
    ann = (
        await acme.post("/Users", {"schemas": [USER], "userName": "ann@x.example", "title": "Sales Manager"})
    ).json()
    group = (
        await acme.post(
            "/Groups",
            {"schemas": [GROUP], "displayName": "Sales Managers", "members": [{"value": ann["id"]}]},
        )
    ).json()
    page = f"/admin/tenants/acme/users/{ann['id']}"
    before = section((await site.client.get(page)).text)
    assert "No role rule applies to this user." in before
    assert "In no smart group." in before
    async with portal.db.write() as conn:
        await role_operations.add_role_rule(conn, acme.tenant, "Sales Managers", "manager", None)
        await role_operations.add_smart_group(conn, acme.tenant, "Managers", 'title co "manager"')
    shown = (await site.client.get(page)).text
    after = section(shown)
    assert (
        f'<strong>manager</strong> because member of IdP group <a href="/admin/tenants/acme/groups/{group["id"]}">Sales Managers</a>'
        in after
    )
    assert 'Smart group <strong>Managers</strong> because <code>title co "manager"</code>' in after
    assert "No role rule" not in after


async def test_the_roles_page_adds_and_removes_rules_and_smart_groups_like_the_cli(
    site: Site, portal: Portal, acme: ScimTenant
) -> None:
    page = "/admin/tenants/acme/roles"
    token = csrf_of(await site.client.get(page))
    async with portal.db.write() as conn:
        sales, _ = await operations.create_department(conn, acme.tenant, "Sales", None)
    posts = [
        ("/rules", {"group": "Sales Admins", "role": "department_admin", "department": sales}, "rule-added"),
        ("/smart-groups", {"name": "Leads", "rule": 'title co "lead"'}, "smart-added"),
    ]
    for path, form, done in posts:
        answer = await site.client.post(page + path, data={"csrf_token": token, **form})
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].endswith(f"?done={done}")
    async with portal.db.read() as conn:
        rules = await role_operations.list_role_rules(conn, acme.tenant)
        smart = await role_operations.list_smart_groups(conn, acme.tenant)
    assert [(r.group, r.role, r.department_name) for r in rules] == [
        ("Sales Admins", "department_admin", "Sales")
    ]
    assert [(g.name, g.rule) for g in smart] == [("Leads", 'title co "lead"')]
    shown = html.unescape((await site.client.get(page)).text)
    assert "administrator of Sales" in shown
    assert 'title co "lead"' in shown
    refused = await site.client.post(
        page + "/smart-groups", data={"csrf_token": token, "name": "X", "rule": "title co"}
    )
    assert refused.status_code == 400
    assert "not a SCIM filter" in html.unescape(refused.text)
    for path, form in (
        ("/rules/remove", {"rule": str(rules[0].id)}),
        ("/smart-groups/remove", {"smart_group": "Leads"}),
    ):
        assert (await site.client.post(page + path, data={"csrf_token": token, **form})).status_code == 303
    async with portal.db.read() as conn:
        assert await role_operations.list_role_rules(conn, acme.tenant) == []
        assert await role_operations.list_smart_groups(conn, acme.tenant) == []
