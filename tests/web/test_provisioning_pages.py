"""The provisioning service's admin pages, in process: each page renders for a signed-in admin
with its data, and each form does what the matching `enlist provisioning` command does."""

from __future__ import annotations

from enlist.provisioning.directory.tables import dir_groups, dir_users
from enlist.provisioning.store import apps as app_store
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import APP, APP_PATH, create_app, ids, load_directory, signed_in, visible


async def test_new_application_creates_a_non_gallery_app_and_opens_its_overview(
    provisioning_site: Site,
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    listing = await site.client.get("/admin/apps")
    assert "New application" in listing.text
    form = await site.client.get("/admin/apps/new")
    assert "Create your own application" in form.text
    assert "Integrate any other application you don't find in the gallery (Non-gallery)" in visible(form)
    answer = await create_app(site, csrf)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{APP_PATH}/overview?done=created"
    overview = await site.client.get(answer.headers["location"])
    assert overview.status_code == 200
    for label in (
        "Start provisioning",
        "Pause provisioning",
        "Restart provisioning",
        "Provision on demand",
        "View provisioning logs",
        "Overview",
        "Users and groups",
        "Provisioning logs",
    ):
        assert label in overview.text, label
    assert f'href="{APP_PATH}/overview" aria-current="page"' in overview.text  # the menu marks it
    async with site.db.read() as conn:
        created = await app_store.get_app(conn, APP)
    assert created.state == "not_configured"


async def test_every_page_renders_for_a_signed_in_admin(provisioning_site: Site) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    users = await ids(site.db, dir_users, dir_users.c.id, dir_users.c.upn)
    groups = await ids(site.db, dir_groups, dir_groups.c.id, dir_groups.c.display_name)
    pages = {
        "/admin/apps": APP,
        "/admin/apps/new": "Create your own application",
        f"{APP_PATH}/overview": "Current cycle status",
        f"{APP_PATH}/overview/status": "Current cycle status",
        f"{APP_PATH}/users-and-groups": "Add user/group",
        f"{APP_PATH}/users-and-groups/add": "None Selected",
        f"{APP_PATH}/users-and-groups/picker?q=sales": "Sales team",
        f"{APP_PATH}/provisioning": "Connect your application",
        f"{APP_PATH}/logs": "Download",
        "/admin/directory/users": "user1@contoso.com",
        "/admin/directory/users?q=USER2": "user2@contoso.com",
        "/admin/directory/groups": "Sales team",
        f"/admin/directory/users/{users['user1@contoso.com']}": "Sales team",
        f"/admin/directory/groups/{groups['Sales team']}": "user3@contoso.com",
        f"{APP_PATH}/overview/users?upn=user4": "user4@contoso.com",
    }
    for path, expected in pages.items():
        page = await site.client.get(path)
        assert page.status_code == 200, (path, page.text[:2000])
        assert expected in page.text, path
