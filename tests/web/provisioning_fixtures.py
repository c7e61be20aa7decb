"""What the provisioning page tests share: a signed-in admin, a small directory, an application."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx2
import orjson
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from enlist.provisioning.store.tables import applications, assignments, provisioning_log
from enlist.web.tables import admin_sessions
from tests.web.conftest import Site
from tests.web.session import csrf_of, make_admin, sign_in

APP = "Learning portal"
APP_PATH = "/admin/apps/Learning%20portal"
DIRECTORY: dict[str, Any] = {
    "users": [
        {
            "userPrincipalName": f"user{i}@contoso.com",
            "givenName": f"Given{i}",
            "surname": f"Sur{i}",
            "displayName": f"Given{i} Sur{i}",
            "mail": f"user{i}@contoso.com",
            "department": "Sales" if i % 2 else "Research",
            "accountEnabled": True,
        }
        for i in range(1, 6)
    ],
    "groups": [
        {"displayName": "Sales team", "members": ["user1@contoso.com", "user3@contoso.com"]},
        {"displayName": "Research", "members": ["user2@contoso.com"]},
    ],
}


async def signed_in(site: Site) -> str:
    """Sign an admin in; the session's CSRF token."""
    await make_admin(site.db)
    await sign_in(site.client)
    return csrf_of(await site.client.get(site.home))


async def load_directory(db: Database, directory: dict[str, Any] | None = None) -> None:
    data = parse_directory_json(orjson.dumps(directory or DIRECTORY).decode())
    async with db.write() as conn:
        await import_directory(conn, data, replace=False)


async def create_app(site: Site, csrf: str, name: str = APP) -> httpx2.Response:
    return await site.client.post(
        "/admin/apps", data={"name": name, "kind": "non-gallery", "csrf_token": csrf}
    )


async def ids(
    db: Database, table: sa.Table, column: sa.Column[Any], name_column: sa.Column[Any]
) -> dict[str, str]:
    async with db.read() as conn:
        return {r[1]: r[0] for r in await conn.execute(sa.select(column, name_column).select_from(table))}


async def snapshot(db: Database) -> dict[str, Any]:
    """Everything a page could change, to compare before and after a refused request."""
    tables = (
        applications,
        assignments,
        provisioning_log,
        dir_users,
        dir_groups,
        dir_group_members,
        admin_sessions,
    )
    async with db.read() as conn:
        return {t.name: sorted(map(repr, (await conn.execute(sa.select(t))).all())) for t in tables}


def visible(page: httpx2.Response) -> str:
    """The page's text without tags, entities decoded: what a reader sees."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.text))
