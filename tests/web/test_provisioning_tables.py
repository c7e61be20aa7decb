"""The provisioning pages' tables have a stated, stable order, on both databases: Users and
groups lists groups then users, each by name, page after page, whatever order they were assigned
in; its columns say different things."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_groups, dir_users
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.web import queries
from enlist.web.paging import decode_cursor
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import APP, APP_PATH, create_app, load_directory, signed_in, visible

DIRECTORY = {
    "users": [
        {"userPrincipalName": f"{name}@contoso.com", "displayName": name.capitalize() + " Contoso"}
        for name in ("zoe", "ada", "Mia", "bob", "lee", "kim", "eve")
    ],
    "groups": [
        *({"displayName": name, "members": ["ada@contoso.com"]} for name in ("sales", "Ops", "art", "HR")),
        {
            "displayName": "Everyone",
            "members": ["zoe@contoso.com", "ada@contoso.com", "Mia@contoso.com", "bob@contoso.com"],
            "groupMembers": ["HR", "art"],
        },
    ],
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_assignments_come_back_groups_then_users_each_by_name_across_pages(
    provisioning_site: Site,
) -> None:
    site = provisioning_site
    await create_app(site, await signed_in(site))
    await load_directory(site.db, DIRECTORY)
    async with site.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        users = [r.id for r in await conn.execute(sa.select(dir_users.c.id))]
        groups = [r.id for r in await conn.execute(sa.select(dir_groups.c.id))]
        random.Random(14).shuffle(users)
        for user in users:  # one at a time: the assignment order is not the name order
            await app_store.assign(conn, app, "user", [user])
        await app_store.assign(conn, app, "group", groups[::-1])
        await app_store.assign(conn, app, "user", ["purged-user-id"])  # no longer in the directory
    seen: list[tuple[str, str]] = []
    cursor = None
    async with site.db.read() as conn:
        while True:
            page = await queries.assignments_page(conn, app.id, decode_cursor(cursor), 3)
            seen += [(e.kind, e.name) for e in page.items]
            if not page.has_next:
                break
            cursor = page.next_cursor
    expected_groups = sorted((str(g["displayName"]) for g in DIRECTORY["groups"]), key=str.casefold)
    expected_users = sorted((u["userPrincipalName"] for u in DIRECTORY["users"]), key=str.casefold)
    assert seen == [
        *(("group", g) for g in expected_groups),
        *(("user", u) for u in expected_users),
        ("user", "purged-user-id"),  # last: its name is gone
    ]

    shown = visible(await site.client.get(f"{APP_PATH}/users-and-groups"))
    assert "Groups first, then users, each by name." in shown
    assert "Ada Contoso" in shown  # the name, then the sign-in name: two different things
    assert "ada@contoso.com" in shown
    assert shown.count("Ada Contoso") == 1  # the display name once, not repeated as "Name"
