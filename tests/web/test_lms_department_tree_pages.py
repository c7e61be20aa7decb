"""The department tree rule on the admin pages (ADR 0034): the settings form sets it as `tenant
set` does, and the sync log shows a move as paths of department names, on the page and in the
CSV export."""

from __future__ import annotations

import re

import pytest

from enlist.lms.api.runtime import Portal
from enlist.lms.store import tenants as tenant_store
from tests.helpers import ENTERPRISE, ScimTenant, make_tenant
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


async def test_the_settings_form_shows_and_saves_the_department_tree_rule(
    site: Site, acme: ScimTenant
) -> None:
    page = await site.client.get("/admin/tenants/acme/sync")
    assert '<option value="none" selected>' in page.text
    assert 'id="department_separator" name="department_separator" type="text" value="/"' in page.text
    form = {
        "csrf_token": csrf_of(page),
        "department_source": "group_names",
        "department_attribute": "department",
        "department_separator": " - ",
        "department_group_prefix": "Dept - ",
    }
    answer = await site.client.post("/admin/tenants/acme/sync/settings", data=form)
    assert answer.status_code == 303
    async with site.db.read() as conn:
        policy = (await tenant_store.get_tenant(conn, "acme")).policy
    assert (policy.department_source, policy.department_separator) == ("group_names", " - ")
    page = await site.client.get("/admin/tenants/acme/sync")
    assert '<option value="group_names" selected>' in page.text
    assert 'value=" - "' in page.text


async def test_a_bad_department_rule_value_shows_the_cli_message_and_changes_nothing(
    site: Site, acme: ScimTenant
) -> None:
    page = await site.client.get("/admin/tenants/acme/sync")
    form = {"csrf_token": csrf_of(page), "department_source": "ldap"}
    answer = await site.client.post("/admin/tenants/acme/sync/settings", data=form)
    assert answer.status_code == 400
    assert "department_source must be one of none, attribute, division, group_names" in answer.text


async def test_the_sync_log_shows_a_department_move_as_paths_on_the_page_and_in_the_export(
    site: Site, acme: ScimTenant
) -> None:
    page = await site.client.get("/admin/tenants/acme/sync")
    form = {"csrf_token": csrf_of(page), "department_source": "attribute"}
    assert (await site.client.post("/admin/tenants/acme/sync/settings", data=form)).status_code == 303
    pat = await acme.create_user(
        "pat@acme.example", schemas=[ENTERPRISE], **{ENTERPRISE: {"department": "Sales/EMEA"}}
    )
    path = f"{ENTERPRISE}:department"
    r = await acme.patch(
        f"/Users/{pat['id']}", [{"op": "replace", "path": path, "value": "Sales/North America"}]
    )
    assert r.status_code == 200
    log = await site.client.get("/admin/tenants/acme/log")
    newest = re.findall(r'href="/admin/tenants/acme/log/(\d+)"', log.text)[0]
    detail = await site.client.get(f"/admin/tenants/acme/log/{newest}")
    assert re.search(
        r'<td[^>]*>department</td><td class="old"[^>]*>Sales \u203a EMEA</td>'
        r'<td class="new"[^>]*>Sales \u203a North America</td>',
        detail.text,
    )
    csv = await site.client.get("/admin/tenants/acme/log/export", params={"format": "csv"})
    assert '""old"":""Sales \u203a EMEA"",""new"":""Sales \u203a North America""' in csv.text
