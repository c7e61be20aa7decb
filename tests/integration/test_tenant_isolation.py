"""Tenant isolation: one tenant's token opens nothing of another's, and its ids mean nothing there.

Two tenants, Alpha and Bravo, each with users and a group. Every route is listed once in
`ROUTES` (method, path under the tenant, body); the tests run the whole matrix, so a new route
is covered by adding one line. After each refused request both tenants' rows, Bravo's sync log
included, are read back and must be exactly what they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from enlist.lms.store.tables import (
    departments,
    group_members,
    groups,
    secret_tokens,
    sync_log,
    user_emails,
    users,
)
from tests.helpers import GROUP, PATCH_OP, SCIM, USER, ScimTenant, assert_api_error, make_tenant

if TYPE_CHECKING:
    import httpx2

    from enlist.lms.api.runtime import Portal

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

USER_BODY = {"schemas": [USER], "userName": "intruder@example.com", "displayName": "Intruder"}
GROUP_BODY = {"schemas": [GROUP], "displayName": "Intruders"}
PATCH_BODY = {
    "schemas": [PATCH_OP],
    "Operations": [{"op": "replace", "path": "displayName", "value": "Hijacked"}],
}
USERS_SEARCH = {"schemas": [SEARCH], "filter": "userName pr", "count": 100}
GROUPS_SEARCH = {"schemas": [SEARCH], "filter": "displayName pr", "count": 100}
ROOT_SEARCH = {"schemas": [SEARCH], "count": 100}


@dataclass(frozen=True)
class Route:
    """One request: `path` is under the tenant's prefix, with `{user}` / `{group}` for ids."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    prefix: str = "/scim/v2/{tenant}"

    @property
    def label(self) -> str:
        return f"{self.method} {self.prefix.split('/')[1]}{self.path}"

    def url(self, tenant: str, user: str, group: str) -> str:
        return self.prefix.format(tenant=tenant) + self.path.format(user=user, group=group)


SCIM_ROUTES = [
    Route("GET", "/Users"),
    Route("POST", "/Users", USER_BODY),
    Route("POST", "/Users/.search", USERS_SEARCH),
    Route("GET", "/Users/{user}"),
    Route("PUT", "/Users/{user}", USER_BODY),
    Route("PATCH", "/Users/{user}", PATCH_BODY),
    Route("DELETE", "/Users/{user}"),
    Route("GET", "/Groups"),
    Route("POST", "/Groups", GROUP_BODY),
    Route("POST", "/Groups/.search", GROUPS_SEARCH),
    Route("GET", "/Groups/{group}"),
    Route("PUT", "/Groups/{group}", GROUP_BODY),
    Route("PATCH", "/Groups/{group}", PATCH_BODY),
    Route("DELETE", "/Groups/{group}"),
    Route("POST", "/.search", ROOT_SEARCH),
    Route("GET", "/ServiceProviderConfig"),
    Route("GET", "/ResourceTypes"),
    Route("GET", "/ResourceTypes/User"),
    Route("GET", "/Schemas"),
    Route("GET", f"/Schemas/{USER}"),
]
ADMIN_ROUTES = [
    Route("GET", "/sync-log", prefix="/api/v1/tenants/{tenant}"),
    Route("GET", "/sync-log?format=csv", prefix="/api/v1/tenants/{tenant}"),
    Route("GET", "/sync-log?format=jsonl", prefix="/api/v1/tenants/{tenant}"),
]
ROUTES = SCIM_ROUTES + ADMIN_ROUTES
ITEM_ROUTES = [r for r in SCIM_ROUTES if "{user}" in r.path or "{group}" in r.path]


def routes(selection: list[Route]) -> list[Any]:
    return [pytest.param(r, id=r.label) for r in selection]


@dataclass
class Pair:
    """Alpha and Bravo, each with two users and a group holding the first of them."""

    alpha: ScimTenant
    bravo: ScimTenant
    ids: dict[str, dict[str, str]] = field(default_factory=dict)


@pytest.fixture
async def pair(portal: Portal, http: httpx2.AsyncClient) -> Pair:
    result = Pair(await make_tenant(portal, http, "alpha"), await make_tenant(portal, http, "bravo"))
    for name, t in (("alpha", result.alpha), ("bravo", result.bravo)):
        user = await t.create_user(
            f"ada@{name}.example", emails=[{"value": f"ada@{name}.example", "primary": True}]
        )
        other = await t.create_user(f"bob@{name}.example")
        group = await t.create_group(f"{name.title()} staff", [user["id"]])
        result.ids[name] = {"user": user["id"], "other": other["id"], "group": group["id"]}
    return result


async def rows(portal: Portal) -> dict[str, Any]:
    """Every row of every tenant table, sync log included: what a refused request must not touch."""
    out: dict[str, Any] = {}
    async with portal.db.read() as conn:
        for table in (users, user_emails, groups, group_members, departments, secret_tokens, sync_log):
            query = sa.select(table).order_by(*table.primary_key.columns)
            out[table.name] = [dict(r._mapping) for r in await conn.execute(query)]
    return out


async def rows_except_alpha_log(portal: Portal, pair: Pair) -> dict[str, Any]:
    """All rows, minus Alpha's own sync log (where Alpha's refused writes are rightly recorded)."""
    everything = await rows(portal)
    everything["sync_log"] = [r for r in everything["sync_log"] if r["tenant_id"] != pair.alpha.tenant.id]
    return everything


def assert_scim_error(response: httpx2.Response, status: int) -> dict[str, Any]:
    if response.url.path.startswith("/api/"):  # the JSON API answers its own one shape (ADR 0031)
        return assert_api_error(response, status)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return dict(body)


async def call(t: ScimTenant, route: Route, tenant: str, ids: dict[str, str]) -> httpx2.Response:
    url = route.url(tenant, ids["user"], ids["group"])
    return await t.http.request(route.method, url, json=route.body, headers=t.headers())


# --- another tenant's URL ------------------------------------------------------------------------


@pytest.mark.parametrize("route", routes(ROUTES))
async def test_a_token_on_another_tenants_url_is_401_and_touches_nothing(
    portal: Portal, pair: Pair, route: Route
) -> None:
    before = await rows(portal)
    response = await call(pair.alpha, route, pair.bravo.tenant.slug, pair.ids["bravo"])
    assert_scim_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await rows(portal) == before


@pytest.mark.parametrize("route", routes(ROUTES))
async def test_the_same_request_with_the_tenants_own_token_is_not_refused(pair: Pair, route: Route) -> None:
    """The control for the test above: the refusal is about the token, not the request."""
    response = await call(pair.bravo, route, pair.bravo.tenant.slug, pair.ids["bravo"])
    assert response.status_code < 400, response.text


@pytest.mark.parametrize("route", routes(ROUTES))
async def test_a_token_on_a_tenant_that_does_not_exist_is_401(
    portal: Portal, pair: Pair, route: Route
) -> None:
    before = await rows(portal)
    response = await call(pair.alpha, route, "charlie", pair.ids["alpha"])
    assert_scim_error(response, 401)
    assert await rows(portal) == before


# --- another tenant's ids on one's own URL -------------------------------------------------------


@pytest.mark.parametrize("route", routes(ITEM_ROUTES))
async def test_another_tenants_resource_id_is_404_and_that_resource_is_unchanged(
    portal: Portal, pair: Pair, route: Route
) -> None:
    before = await rows_except_alpha_log(portal, pair)
    bravo_before = await pair.bravo.get(route.path.format(**pair.ids["bravo"]))
    response = await call(pair.alpha, route, pair.alpha.tenant.slug, pair.ids["bravo"])
    body = assert_scim_error(response, 404)
    assert pair.ids["bravo"]["user" if "{user}" in route.path else "group"] in body["detail"]
    assert await rows_except_alpha_log(portal, pair) == before
    bravo_after = await pair.bravo.get(route.path.format(**pair.ids["bravo"]))
    assert bravo_after.status_code == 200
    assert bravo_after.json() == bravo_before.json()


@pytest.mark.parametrize(
    ("endpoint", "filter_text"),
    [
        pytest.param("/Users", 'id eq "{user}"', id="user-id"),
        pytest.param("/Users", 'id eq "{user}" or userName pr', id="user-id-or-any"),
        pytest.param("/Users", 'manager eq "{user}"', id="user-manager"),
        pytest.param("/Groups", 'id eq "{group}"', id="group-id"),
        pytest.param("/Groups", 'members[value eq "{user}"]', id="group-member"),
        pytest.param("/Groups", 'members eq "{user}"', id="group-members-eq"),
    ],
)
async def test_a_filter_on_another_tenants_id_finds_nothing(
    pair: Pair, endpoint: str, filter_text: str
) -> None:
    text = filter_text.format(**pair.ids["bravo"])
    response = await pair.alpha.get(endpoint, filter=text)
    assert response.status_code == 200, response.text
    found = {r["id"] for r in response.json()["Resources"]}
    assert not found & set(pair.ids["bravo"].values())
    assert all(r["id"] in pair.ids["alpha"].values() for r in response.json()["Resources"])


async def test_listing_shows_only_the_tenants_own_users_and_groups(pair: Pair) -> None:
    users_page = (await pair.alpha.get("/Users")).json()
    groups_page = (await pair.alpha.get("/Groups")).json()
    assert {r["userName"] for r in users_page["Resources"]} == {"ada@alpha.example", "bob@alpha.example"}
    assert users_page["totalResults"] == 2
    assert {r["displayName"] for r in groups_page["Resources"]} == {"Alpha staff"}


async def test_the_sync_log_of_a_tenant_holds_only_its_own_entries(pair: Pair) -> None:
    for name, t in (("alpha", pair.alpha), ("bravo", pair.bravo)):
        response = await t.http.get(f"/api/v1/tenants/{t.tenant.slug}/sync-log", headers=t.headers())
        assert response.status_code == 200, response.text
        entries = response.json()["entries"]
        assert entries
        assert all(f"/scim/v2/{t.tenant.slug}/" in e["path"] for e in entries)
        own = set(pair.ids[name].values())
        assert {e["resource_id"] for e in entries} <= own


async def test_the_sync_log_filtered_on_another_tenants_resource_is_empty(pair: Pair) -> None:
    response = await pair.alpha.http.get(
        f"/api/v1/tenants/{pair.alpha.tenant.slug}/sync-log",
        params={"resource_id": pair.ids["bravo"]["user"]},
        headers=pair.alpha.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["entries"] == []


# --- another tenant's users as members or managers -----------------------------------------------

MEMBERSHIP_WRITES = ["patch-add", "patch-replace", "put", "post"]


async def write_membership(pair: Pair, how: str, member_id: str) -> httpx2.Response:
    """Ask Alpha to put `member_id` into a group, the way `how` names."""
    group_id = pair.ids["alpha"]["group"]
    if how == "patch-add":
        return await pair.alpha.patch(
            f"/Groups/{group_id}", [{"op": "add", "path": "members", "value": [{"value": member_id}]}]
        )
    if how == "patch-replace":
        return await pair.alpha.patch(
            f"/Groups/{group_id}", [{"op": "replace", "path": "members", "value": [{"value": member_id}]}]
        )
    if how == "put":
        return await pair.alpha.put(
            f"/Groups/{group_id}",
            {"schemas": [GROUP], "displayName": "Alpha staff", "members": [{"value": member_id}]},
        )
    return await pair.alpha.post(
        "/Groups", {"schemas": [GROUP], "displayName": "Mixed", "members": [{"value": member_id}]}
    )


@pytest.mark.parametrize("how", MEMBERSHIP_WRITES)
async def test_another_tenants_user_as_a_member_is_400_and_nothing_is_written(
    portal: Portal, pair: Pair, how: str
) -> None:
    before = await rows_except_alpha_log(portal, pair)
    members_before = await pair.alpha.members(pair.ids["alpha"]["group"])
    response = await write_membership(pair, how, pair.ids["bravo"]["user"])
    body = assert_scim_error(response, 400)
    assert body.get("scimType") == "invalidValue"
    assert pair.ids["bravo"]["user"] in body["detail"]
    assert await rows_except_alpha_log(portal, pair) == before
    assert await pair.alpha.members(pair.ids["alpha"]["group"]) == members_before


@pytest.mark.parametrize("how", MEMBERSHIP_WRITES)
async def test_the_same_membership_write_with_an_own_user_succeeds(pair: Pair, how: str) -> None:
    """The control for the test above: only the foreign id made it fail."""
    response = await write_membership(pair, how, pair.ids["alpha"]["other"])
    assert response.status_code in (200, 201, 204), response.text


async def test_another_tenants_user_as_a_manager_is_400_and_nothing_is_written(
    portal: Portal, pair: Pair
) -> None:
    before = await rows_except_alpha_log(portal, pair)
    manager = {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": pair.ids["bravo"]["user"]}
    }
    response = await pair.alpha.post(
        "/Users", {"schemas": [USER], "userName": "carol@alpha.example", **manager}
    )
    body = assert_scim_error(response, 400)
    assert pair.ids["bravo"]["user"] in body["detail"]
    assert await rows_except_alpha_log(portal, pair) == before


# --- names are unique per tenant, not across tenants ---------------------------------------------


async def test_the_same_user_name_and_group_name_can_exist_in_both_tenants(pair: Pair) -> None:
    twin = await pair.alpha.create_user("ada@bravo.example")
    group = await pair.alpha.create_group("Bravo staff", [twin["id"]])
    assert twin["id"] != pair.ids["bravo"]["user"]
    assert (await pair.bravo.find_user("ada@bravo.example") or {})["id"] == pair.ids["bravo"]["user"]
    assert await pair.bravo.members(pair.ids["bravo"]["group"]) == {pair.ids["bravo"]["user"]}
    assert await pair.alpha.members(group["id"]) == {twin["id"]}


async def test_deleting_a_user_in_one_tenant_leaves_the_same_login_in_the_other(pair: Pair) -> None:
    twin = await pair.alpha.create_user("bob@bravo.example")
    assert (await pair.alpha.delete(f"/Users/{twin['id']}")).status_code == 204
    kept = await pair.bravo.get(f"/Users/{pair.ids['bravo']['other']}")
    assert kept.status_code == 200
    assert kept.json()["userName"] == "bob@bravo.example"
