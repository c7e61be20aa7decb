"""The portal's pages show values as a person reads them, name the client of each change, and
start from a home that says what arrived: on SQLite and PostgreSQL (issue 14)."""

from __future__ import annotations

import csv
import io
import re

import httpx2
import orjson
import pytest

from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.lms.operations import set_policy
from enlist.lms.store import tenants as tenant_store
from enlist.provisioning.target.client import ScimTarget
from tests.helpers import ENTERPRISE, ScimTenant, make_tenant
from tests.web.conftest import Site
from tests.web.session import make_admin, sign_in

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OKTA = "Okta SCIM Client 1.0.0"
ENLIST = "enlist-provisioning"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def site(portal_site: Site) -> Site:
    await make_admin(portal_site.db)
    await sign_in(portal_site.client)
    return portal_site


@pytest.fixture
async def acme(site: Site, portal: Portal) -> ScimTenant:
    return await make_tenant(portal, site.client, "acme")


async def create_user(
    acme: ScimTenant, user_name: str, agent: str = OKTA, **attrs: object
) -> dict[str, object]:
    answer = await acme.http.post(
        acme.base + "/Users",
        json={"schemas": [USER], "userName": user_name, **attrs},
        headers=acme.headers(**{"User-Agent": agent}),
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def main_of(page: str) -> str:
    """The page's content, without the head and navigation (whose markup may hold braces)."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def text_of(fragment: str) -> str:
    return re.sub(r"<[^>]+>", " ", fragment)


async def test_the_profile_shows_addresses_emails_and_phones_as_a_person_reads_them(
    site: Site, acme: ScimTenant
) -> None:
    pat = await create_user(
        acme,
        "pat@acme.example",
        emails=[
            {"value": "pat@acme.example", "type": "work", "primary": True},
            {"value": "pat@home.example", "type": "home"},
        ],
        phoneNumbers=[{"value": "+1 425 555 0100", "type": "mobile", "primary": True}],
        addresses=[
            {
                "type": "work",
                "streetAddress": "1 Main St",
                "locality": "Redmond",
                "region": "WA",
                "postalCode": "98052",
                "country": "US",
                "primary": True,
            }
        ],
        schemas=[USER, ENTERPRISE],
        **{ENTERPRISE: {"employeeNumber": "E42"}},
    )
    page = await site.client.get(f"/admin/tenants/acme/users/{pat['id']}")
    assert page.status_code == 200
    profile = main_of(page.text).split('id="profile"', 1)[1].split("</dl>", 1)[0]
    shown = text_of(profile)
    assert "1 Main St, Redmond, WA 98052, US (work, primary)" in shown
    assert "pat@acme.example (work, primary)" in shown
    assert "pat@home.example (home)" in shown
    assert "+1 425 555 0100 (mobile, primary)" in shown
    assert not set("{}[]") & set(text_of(main_of(page.text))), "JSON on the user's page"
    assert "&#34;" not in main_of(page.text)  # no quoted JSON keys either
    assert "employee<wbr>" not in page.text  # an attribute name breaks only after ':' or '.'
    assert "<span>employeeNumber</span>" in page.text


async def test_a_group_member_change_shows_names_linked_to_the_users_with_ids_on_hover(
    site: Site, acme: ScimTenant, portal: Portal
) -> None:
    people = [await create_user(acme, f"p{i}@acme.example", displayName=f"Person {i}") for i in range(3)]
    group = await acme.create_group("Sales", [str(people[0]["id"])])
    changed = await acme.http.patch(
        f"{acme.base}/Groups/{group['id']}",
        json={
            "schemas": [PATCH],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": p["id"]} for p in people[1:]]},
                {"op": "remove", "path": f'members[value eq "{people[0]["id"]}"]'},
            ],
        },
        headers=acme.headers(**{"User-Agent": ENLIST}),
    )
    assert changed.status_code in (200, 204), changed.text
    async with portal.db.write() as conn:
        await set_policy(conn, acme.tenant, {"delete_policy": "erase"})
    assert (await acme.delete(f"/Users/{people[2]['id']}")).status_code == 204
    log = await site.client.get("/admin/tenants/acme/log?resource_type=Group")
    entry_id = re.findall(r'href="/admin/tenants/acme/log/(\d+)"', log.text)[0]  # newest: the PATCH
    page = await site.client.get(f"/admin/tenants/acme/log/{entry_id}")
    assert page.status_code == 200
    body = main_of(page.text)
    assert (
        f'<a href="/admin/tenants/acme/users/{people[1]["id"]}" title="User id {people[1]["id"]}">Person 1</a>'
        in body
    )
    assert (
        f'<a href="/admin/tenants/acme/users/{people[0]["id"]}" title="User id {people[0]["id"]}">Person 0</a>'
        in body
    )
    assert "a user no longer in this tenant" in body  # the erased one, its id on hover only
    assert UUID.findall(text_of(re.sub(r'title="[^"]*"', "", body.split('id="changes-heading"', 1)[1]))) == []
    assert 'id="entry-client"><span class="client">enlist provisioning</span>' in body


async def test_the_sync_log_names_the_client_of_each_change_on_the_page_and_in_the_exports(
    site: Site, acme: ScimTenant
) -> None:
    await create_user(acme, "okta@acme.example", agent=OKTA)
    await create_user(acme, "enlist@acme.example", agent=ENLIST)
    await create_user(acme, "tool@acme.example", agent="curl/8.5.0")
    refused = await acme.http.post(
        acme.base + "/Users", json={"schemas": [USER]}, headers=acme.headers(**{"User-Agent": OKTA})
    )
    assert refused.status_code == 400
    page = await site.client.get("/admin/tenants/acme/log")
    clients = re.findall(r'<td data-label="Client"><span class="client">([^<]+)</span></td>', page.text)
    assert clients == ["Okta", "curl/8.5.0", "enlist provisioning", "Okta"]  # newest first
    exported = await site.client.get("/admin/tenants/acme/log/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["client"] for r in rows] == clients
    lines = (await site.client.get("/admin/tenants/acme/log/export?format=jsonl")).text.splitlines()
    assert [orjson.loads(line)["client"] for line in lines] == clients


async def test_the_tenants_page_tells_name_from_id_links_every_page_and_says_what_arrived(
    site: Site, acme: ScimTenant, portal: Portal
) -> None:
    await create_user(acme, "one@acme.example", agent=ENLIST)
    made = await acme.http.post(
        acme.base + "/Groups",
        json={"schemas": [GROUP], "displayName": "Sales"},
        headers=acme.headers(**{"User-Agent": ENLIST}),
    )
    assert made.status_code == 201, made.text
    async with portal.db.write() as conn:
        await tenant_store.create_tenant(conn, "Contoso Learning")
    page = await site.client.get("/admin/tenants")
    body = main_of(page.text)
    table = body.split('id="tenants"', 1)[1]
    assert '<code class="slug"' in table.split("Contoso Learning", 1)[1].split("</tr>", 1)[0]
    acme_row = table.split(">acme</a>", 1)[1].split("</tr>", 1)[0]
    assert "slug" not in acme_row  # the id only when it differs from the name
    for target in ("users", "departments", "groups", "log"):
        assert f'href="/admin/tenants/acme/{target}"' in acme_row
    guide = text_of(body.split('id="first-run"', 1)[1].split("</section>", 1)[0])
    assert re.search(
        r"acme\s+holds 1 user and 1 group\s*, provisioned over SCIM by enlist provisioning;", guide
    ), guide
    assert "Contoso Learning" not in guide  # nothing arrived there yet
    assert "1 users" not in page.text


async def test_a_change_the_provisioning_engine_makes_is_logged_as_enlist_provisioning(
    site: Site, acme: ScimTenant, portal: Portal
) -> None:
    target = ScimTarget(
        "http://portal.test/scim/v2/acme",
        acme.token,
        transport=httpx2.ASGITransport(app=create_app(portal.settings, portal)),
    )
    async with target:
        await target.create("User", {"schemas": [USER], "userName": "engine@acme.example"})
    page = await site.client.get("/admin/tenants/acme/log")
    assert '<td data-label="Client"><span class="client">enlist provisioning</span></td>' in page.text
