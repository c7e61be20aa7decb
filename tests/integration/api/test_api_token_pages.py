"""The admin page of API tokens on both services: it lists them and revokes one, behind the
session and its CSRF token; a portal admin limited to one tenant sees only that tenant's."""

from __future__ import annotations

import re

import sqlalchemy as sa

from enlist.provisioning.service import Service
from tests.integration.api.conftest import Side, create_token
from tests.web.session import csrf_of, make_admin, sign_in


def token_id(html: str, name: str) -> int:
    row = re.search(rf"<code>{name}</code>.*?/admin/api-tokens/(\d+)/revoke", html, re.DOTALL)
    assert row, html
    return int(row[1])


async def test_the_page_lists_tokens_and_revokes_one_with_the_csrf_token(
    side: Side, service: Service
) -> None:
    ci = await create_token(service, side, "ci", "--scope", "write", "--expires", "90d")
    await create_token(service, side, "dashboard")
    await make_admin(side.db)
    await sign_in(side.client)

    page = await side.client.get("/admin/api-tokens")
    assert page.status_code == 200
    assert ci["token"] not in page.text
    rows = page.text.split("<tbody>")[1]
    assert rows.index("<code>dashboard</code>") < rows.index("<code>ci</code>")  # newest first
    assert "write" in rows
    assert "never" in rows  # last used
    assert 'href="/admin/api-tokens"' in page.text  # in the navigation

    target = f"/admin/api-tokens/{token_id(page.text, 'ci')}/revoke"
    forged = await side.client.post(target, data={})
    revoked = await side.client.post(target, data={"csrf_token": csrf_of(page)})

    assert forged.status_code == 403
    assert revoked.status_code == 303
    async with side.db.read() as conn:
        states = dict((await conn.execute(sa.select(side.table.c.name, side.table.c.revoked_at))).all())
    assert states["ci"] is not None
    assert states["dashboard"] is None
    again = await side.client.get("/admin/api-tokens")
    assert "/admin/api-tokens/" + str(token_id(again.text, "dashboard")) in again.text
    assert f"{target}" not in again.text  # a revoked token has no Revoke button


async def test_a_limited_portal_admin_sees_and_revokes_only_its_tenants_tokens(
    portal_side: Side, service: Service
) -> None:
    await create_token(service, portal_side, "acme-ci", "--tenant", "acme")
    await create_token(service, portal_side, "globex-ci", "--tenant", "globex")
    await create_token(service, portal_side, "portal-ci")
    await make_admin(portal_side.db, "ann@example.com")
    await make_admin(portal_side.db, "lim@example.com", tenant="acme")
    await sign_in(portal_side.client)
    everything = await portal_side.client.get("/admin/api-tokens")
    portal_wide = token_id(everything.text, "portal-ci")
    await sign_in(portal_side.client, "lim@example.com")

    page = await portal_side.client.get("/admin/api-tokens")
    refused = await portal_side.client.post(
        f"/admin/api-tokens/{portal_wide}/revoke", data={"csrf_token": csrf_of(page)}
    )

    assert "acme-ci" in page.text
    assert "globex-ci" not in page.text
    assert "portal-ci" not in page.text
    assert refused.status_code == 404
    async with portal_side.db.read() as conn:
        live = (
            await conn.execute(sa.select(sa.func.count()).where(portal_side.table.c.revoked_at.is_(None)))
        ).scalar()
    assert live == 3
