"""Every tenant operation gives the same result through `enlist lms …` and through the admin
pages: both call `enlist.lms.operations`, so a placement change re-places users by one rule, an
overlap is checked once, and a refusal has one message.

Each test runs the operation on two tenants, one through the CLI (click's runner, against the
same database) and one through the pages (a signed-in session with its CSRF token), then
compares what each tenant holds.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from enlist.cli import main
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.lms.domain.policy import MAX_OVERLAP_HOURS
from enlist.lms.store import department_tree as tree_store
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import departments, secret_tokens, users
from tests.conftest import TEST_PEPPER
from tests.helpers import ScimTenant
from tests.web.session import csrf_of, make_admin, sign_in

PATHS = ("cli", "page")
TOKEN_FIELD = re.compile(r'id="secret-token" type="text" readonly value="([^"]*)"')
ALERT = re.compile(r'role="alert"[^>]*>(.*?)<', re.DOTALL)


@dataclass
class Fronts:
    """The two front ends on one portal: the CLI, and a signed-in admin's pages."""

    portal: Portal
    client: httpx2.AsyncClient

    async def cli(self, *args: str) -> Result:
        """`enlist ARGS…` in this process (click's runner, in a thread: it runs its own loop)."""
        settings = self.portal.settings
        env = {
            "ENLIST_DATA_DIR": str(settings.data_dir),
            "ENLIST_LMS_DATABASE_URL": settings.lms_database_url or "",
            "ENLIST_LMS_PUBLIC_URL": settings.lms_public_url,
            "ENLIST_TOKEN_PEPPER": TEST_PEPPER,
        }
        return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)

    async def post(self, path: str, data: dict[str, Any]) -> httpx2.Response:
        csrf = csrf_of(await self.client.get("/admin/tenants"))
        return await self.client.post(path, data={**data, "csrf_token": csrf})

    async def scim_status(self, slug: str, token: str) -> int:
        answer = await self.client.get(f"/scim/v2/{slug}/Users", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code


@pytest.fixture
async def fronts(portal: Portal) -> AsyncIterator[Fronts]:
    app = create_app(portal.settings, portal)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://portal.test"
    ) as c:
        await make_admin(portal.db)
        await sign_in(c)
        yield Fronts(portal, c)


def refusal(answer: httpx2.Response) -> str:
    """The message a page shows for a refused form, as text."""
    found = ALERT.search(answer.text)
    assert found, answer.text
    shown = html.unescape(" ".join(found.group(1).split()))
    return shown.removesuffix(" Nothing was changed.").removesuffix(".")


def cli_refusal(result: Result) -> str:
    assert result.exit_code == 1, result.output
    first = result.stderr.removeprefix("error: ").splitlines()[0]  # the next says where to look
    return first.strip()


async def new_tenant(fronts: Fronts, path: str) -> tuple[str, str]:
    """A tenant (its slug and first token) created through `path`."""
    name = f"{path} corp"
    if path == "cli":
        result = await fronts.cli("lms", "tenant", "create", name, "--json")
        assert result.exit_code == 0, result.output
        created = json.loads(result.stdout)
        return created["tenant"], created["secret_token"]
    answer = await fronts.post("/admin/tenants", {"name": name})
    assert answer.status_code == 200, answer.text
    found = TOKEN_FIELD.search(answer.text)
    assert found
    return f"{path}-corp", html.unescape(found.group(1))


# -- create tenant -------------------------------------------------------------------------------


async def test_creating_a_tenant_gives_the_same_tenant_and_a_working_token_on_both_paths(
    fronts: Fronts,
) -> None:
    made = {path: await new_tenant(fronts, path) for path in PATHS}

    async with fronts.portal.db.read() as conn:
        tenants = {path: await tenant_store.get_tenant(conn, slug) for path, (slug, _) in made.items()}
        tokens = {
            path: await conn.scalar(sa.select(sa.func.count()).where(secret_tokens.c.tenant_id == tenant.id))
            for path, tenant in tenants.items()
        }
    assert tenants["cli"].policy == tenants["page"].policy
    assert tokens == {"cli": 1, "page": 1}
    for slug, token in made.values():
        assert await fronts.scim_status(slug, token) == 200


async def test_creating_a_tenant_twice_is_refused_with_the_same_message_on_both_paths(
    fronts: Fronts,
) -> None:
    await new_tenant(fronts, "cli")
    by_cli = cli_refusal(await fronts.cli("lms", "tenant", "create", "cli corp"))
    by_page = refusal(await fronts.post("/admin/tenants", {"name": "cli corp"}))
    assert by_cli == by_page == "a tenant named 'cli-corp' exists already"


# -- set policy --------------------------------------------------------------------------------


async def set_policy(fronts: Fronts, path: str, slug: str, **changes: str) -> None:
    if path == "cli":
        result = await fronts.cli("lms", "tenant", "set", slug, *(f"{k}={v}" for k, v in changes.items()))
        assert result.exit_code == 0, result.output
        return
    answer = await fronts.post(f"/admin/tenants/{slug}/sync/settings", changes)
    assert answer.status_code == 303, answer.text


async def department_of(fronts: Fronts, slug: str, user_id: str) -> str:
    async with fronts.portal.db.read() as conn:
        return str(
            await conn.scalar(
                sa.select(departments.c.name)
                .select_from(users.join(departments, users.c.department_id == departments.c.id))
                .where(users.c.id == user_id)
            )
        )


async def place_by_hand(fronts: Fronts, slug: str, user_id: str) -> None:
    """Put the user in the root department, where no placement rule puts a member of groups."""
    async with fronts.portal.db.write() as conn:
        tenant = await tenant_store.get_tenant(conn, slug)
        await conn.execute(
            users.update().where(users.c.id == user_id).values(department_id=tenant.root_department_id)
        )


@pytest.mark.parametrize("path", PATHS)
async def test_a_placement_policy_re_places_users_only_when_its_value_changes(
    fronts: Fronts, path: str
) -> None:
    slug, token = await new_tenant(fronts, path)
    async with fronts.portal.db.read() as conn:
        tenant = await tenant_store.get_tenant(conn, slug)
    scim = ScimTenant(tenant, token, fronts.client)
    pat = (await scim.create_user("pat@example.com"))["id"]
    for group in ("Engineering", "Sales EMEA"):
        assert (await scim.create_group(group, [pat]))["displayName"] == group
    assert await department_of(fronts, slug, pat) == "Engineering"  # the name tie-break

    await set_policy(fronts, path, slug, placement="Sales*")
    assert await department_of(fronts, slug, pat) == "Sales EMEA"

    # Naming the placement keys with the values they have changes no one's place.
    await place_by_hand(fronts, slug, pat)
    await set_policy(
        fronts, path, slug, group_mode="both", placement="Sales*", tie_break="name", seat_limit="9"
    )
    assert await department_of(fronts, slug, pat) == f"{path} corp"  # the root, named after the tenant

    # Changing the group mode (here away from departments and back) places everyone again.
    await set_policy(fronts, path, slug, group_mode="groups")
    await set_policy(fronts, path, slug, group_mode="both")
    assert await department_of(fronts, slug, pat) == "Sales EMEA"


async def test_a_bad_setting_is_refused_with_the_same_message_on_both_paths(fronts: Fronts) -> None:
    made = {path: (await new_tenant(fronts, path))[0] for path in PATHS}
    by_cli = cli_refusal(await fronts.cli("lms", "tenant", "set", made["cli"], "group_mode=sideways"))
    by_page = refusal(
        await fronts.post(f"/admin/tenants/{made['page']}/sync/settings", {"group_mode": "sideways"})
    )
    assert by_cli == by_page
    assert by_cli.startswith("group_mode must be one of departments, groups, both")


# -- tokens ----------------------------------------------------------------------------------------


async def rotate(fronts: Fronts, path: str, slug: str, overlap: str) -> str | httpx2.Response | Result:
    if path == "cli":
        result = await fronts.cli("lms", "tenant", "rotate-token", slug, "--overlap", overlap, "--json")
        if result.exit_code:
            return result
        return str(json.loads(result.stdout)["secret_token"])
    answer = await fronts.post(f"/admin/tenants/{slug}/sync/token", {"overlap_hours": overlap})
    found = TOKEN_FIELD.search(answer.text)
    return html.unescape(found.group(1)) if found else answer


@pytest.mark.parametrize("overlap", ["-1", "9000", "nan", "inf", "-inf"])
async def test_a_bad_overlap_is_refused_with_the_same_message_on_both_paths_and_mints_nothing(
    fronts: Fronts, overlap: str
) -> None:
    made = {path: (await new_tenant(fronts, path))[0] for path in PATHS}
    by_cli = await rotate(fronts, "cli", made["cli"], overlap)
    by_page = await rotate(fronts, "page", made["page"], overlap)
    assert isinstance(by_cli, Result)
    assert isinstance(by_page, httpx2.Response)
    assert by_page.status_code == 400
    expected = f"the overlap must be between 0 and {MAX_OVERLAP_HOURS} hours"
    assert cli_refusal(by_cli) == refusal(by_page) == expected
    async with fronts.portal.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(secret_tokens)) == 2
        assert (
            await conn.scalar(sa.select(sa.func.count()).where(secret_tokens.c.expires_at.is_not(None))) == 0
        )


@pytest.mark.parametrize(("overlap", "old_works"), [("0", False), ("2", True)])
async def test_rotating_a_token_does_the_same_on_both_paths(
    fronts: Fronts, overlap: str, old_works: bool
) -> None:
    for path in PATHS:
        slug, old = await new_tenant(fronts, path)
        new = await rotate(fronts, path, slug, overlap)
        assert isinstance(new, str)
        assert await fronts.scim_status(slug, new) == 200
        assert await fronts.scim_status(slug, old) == (200 if old_works else 401)


async def test_revoking_tokens_does_the_same_on_both_paths(fronts: Fronts) -> None:
    made = {path: await new_tenant(fronts, path) for path in PATHS}
    result = await fronts.cli("lms", "tenant", "revoke-tokens", made["cli"][0])
    assert result.exit_code == 0
    assert result.stdout.startswith("1 token(s) revoked.")
    answer = await fronts.post(f"/admin/tenants/{made['page'][0]}/sync/revoke", {})
    assert answer.status_code == 303
    for slug, token in made.values():
        assert await fronts.scim_status(slug, token) == 401


# -- departments -----------------------------------------------------------------------------------


async def shape_departments(fronts: Fronts, path: str, slug: str) -> list[str]:
    """Sales, EMEA under Sales, Support; then Support moved under EMEA. The refusals, as text."""
    refusals: list[str] = []
    steps: list[tuple[str, dict[str, str]]] = [
        ("create", {"name": "Sales"}),
        ("create", {"name": "EMEA", "parent": "sales"}),
        ("create", {"name": "Support"}),
        ("move", {"department": "support", "parent": "EMEA"}),
        ("create", {"name": "Nowhere", "parent": "nope"}),
        ("move", {"department": "sales", "parent": "support"}),  # a cycle
    ]
    for action, fields in steps:
        if path == "cli":
            args = ["lms", "department", action, slug]
            args += [fields["name"]] if action == "create" else [fields["department"]]
            args += ["--under", fields["parent"]] if "parent" in fields else []
            result = await fronts.cli(*args)
            if result.exit_code:
                refusals.append(cli_refusal(result))
            continue
        url = f"/admin/tenants/{slug}/departments" + ("/move" if action == "move" else "")
        answer = await fronts.post(url, fields)
        if answer.status_code != 303:
            refusals.append(refusal(answer))
    return [r.replace(slug, "SLUG") for r in refusals]


async def test_department_changes_shape_the_same_tree_and_refuse_alike_on_both_paths(fronts: Fronts) -> None:
    made = {path: (await new_tenant(fronts, path))[0] for path in PATHS}
    refusals = {path: await shape_departments(fronts, path, made[path]) for path in PATHS}
    trees: dict[str, Any] = {}
    async with fronts.portal.db.read() as conn:
        for path, slug in made.items():
            tenant = await tenant_store.get_tenant(conn, slug)
            trees[path] = [names(node) for node in await tree_store.department_tree(conn, tenant)]

    assert len(refusals["cli"]) == 2
    assert refusals["cli"] == refusals["page"]
    assert (
        trees["cli"][0]["cli corp"] == trees["page"][0]["page corp"] == {"Sales": {"EMEA": {"Support": {}}}}
    )


def names(node: tree_store.DepartmentNode) -> dict[str, Any]:
    return {node.name: {k: v for child in node.children for k, v in names(child).items()}}
