"""The user's page says which roles and smart groups the rules give the user, and why."""

from __future__ import annotations

import html

import pytest

from enlist.lms import role_operations
from enlist.lms.api.runtime import Portal
from tests.helpers import GROUP, USER, ScimTenant, make_tenant
from tests.web.conftest import Site
from tests.web.session import make_admin, sign_in


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
