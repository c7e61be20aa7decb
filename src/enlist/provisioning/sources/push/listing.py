"""Listing a push source's Users and Groups: paging, and the filters SCIM clients send.

A filter is one `eq` on `userName`, `externalId` or `id` (Users), `displayName`, `externalId`
or `id` (Groups): how Okta and Entra ask whether an object exists (`userName` and
`displayName` compare case-insensitively, as RFC 7643 has them). Any other filter is
`invalidFilter`, said plainly, rather than answered wrongly. Pages are ordered by push id, so
they are stable whatever the page size.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.tables import dir_groups, dir_users
from enlist.provisioning.sources.push import groups, users
from enlist.provisioning.sources.push.tables import push_external_ids
from enlist.provisioning.sources.push.writes import Push
from enlist.scim.errors import invalid_filter
from enlist.scim.filter_ast import Compare
from enlist.scim.listing import ListQuery, list_response

_NAMES = {"user": ("username", dir_users.c.upn_ci), "group": ("displayname", dir_groups.c.display_name_ci)}


def _where(push: Push, kind: str, query: ListQuery) -> sa.ColumnElement[bool]:
    table = dir_users if kind == "user" else dir_groups
    live = (table.c.source == push.source.name) & table.c.deleted_at.is_(None)
    found = query.filter
    if found is None:
        return live
    name, column = _NAMES[kind]
    allowed = f"{'userName' if kind == 'user' else 'displayName'}, externalId or id"
    if not (isinstance(found, Compare) and found.op == "eq" and isinstance(found.value, str)):
        raise invalid_filter(f"this endpoint filters with one eq on {allowed} (a string)")
    attr = found.attr
    if attr.sub is not None or attr.schema not in (
        None,
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    ):
        raise invalid_filter(f"this endpoint filters with one eq on {allowed}, not on {attr}")
    wanted = attr.name.lower()
    if wanted == name:
        return live & (column == found.value.casefold())
    if wanted == "id":
        return live & (table.c.source_id == found.value)
    if wanted == "externalid":
        e = push_external_ids.c
        holders = sa.select(e.source_id).where(
            (e.source == push.source.id) & (e.kind == kind) & (e.external_id_ci == found.value.casefold())
        )
        return live & table.c.source_id.in_(holders)
    raise invalid_filter(f"this endpoint filters with one eq on {allowed}, not on {attr}")


async def list_resources(conn: AsyncConnection, push: Push, kind: str, query: ListQuery) -> dict[str, Any]:
    table = dir_users if kind == "user" else dir_groups
    where = _where(push, kind, query)
    total = (await conn.execute(sa.select(sa.func.count()).select_from(table).where(where))).scalar_one()
    rows = (
        await conn.execute(
            sa.select(table)
            .where(where)
            .order_by(table.c.source_id)
            .offset(query.start - 1)
            .limit(query.count)
        )
    ).all()
    render = users.render if kind == "user" else groups.render
    return list_response(int(total), query.start, [await render(conn, push, r) for r in rows])
