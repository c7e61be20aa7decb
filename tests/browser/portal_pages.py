"""A portal tenant that holds what its pages must show well, and every portal page found from the
routes (not from a hand-made list), for the layout tests.

The tenant is filled over real SCIM by two clients (Okta's and enlist provisioning's User-Agent):
people with addresses, several emails and phone numbers, the Enterprise extension and a custom
extension with a long attribute name, groups that become departments, hand-made departments
nested three deep, members who join and leave, and a failed request. Every page route under
/admin is then opened with its path parameters filled from that tenant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx2
from starlette.routing import Route

from enlist.lms.web.site import build_site, routes
from tests.live import LivePortal

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
TRAINING = "urn:contoso:params:scim:schemas:extension:compliance-training:2.0:User"
OKTA = "Okta SCIM Client 1.0.0"
ENLIST = "enlist-provisioning"
TENANT_NAME = "Contoso Learning"
TENANT = "contoso-learning"


@dataclass(frozen=True)
class SeededTenant:
    slug: str
    user_id: str
    group_id: str
    member_change_entry: int
    member_names: tuple[str, ...]


def _person(i: int) -> dict[str, object]:
    return {
        "schemas": [USER, ENTERPRISE, TRAINING],
        "userName": f"person{i:02d}@contoso.example",
        "displayName": f"Person {i:02d} Contoso-Fabrikam",
        "name": {"givenName": f"Person {i:02d}", "familyName": "Contoso-Fabrikam"},
        "title": "Senior learning and development programme coordinator",
        "emails": [
            {"value": f"person{i:02d}@contoso.example", "type": "work", "primary": True},
            {"value": f"person{i:02d}.private@fabrikam.example", "type": "home"},
        ],
        "phoneNumbers": [
            {"value": f"+1 425 555 01{i:02d}", "type": "work", "primary": True},
            {"value": f"+1 206 555 02{i:02d}", "type": "mobile"},
        ],
        "addresses": [
            {
                "type": "work",
                "streetAddress": "One Microsoft Way, Building 92",
                "locality": "Redmond",
                "region": "WA",
                "postalCode": "98052",
                "country": "US",
                "primary": True,
            }
        ],
        ENTERPRISE: {"employeeNumber": f"E{i:05d}", "costCenter": "CC-4711", "department": "Sales"},
        TRAINING: {"mandatoryTrainingCompletionDeadline": "2027-03-31", "complianceOfficerApproved": True},
    }


def seed_tenant(live: LivePortal) -> SeededTenant:
    """The tenant the layout tests open every page of (a few seconds: SCIM over loopback)."""
    tenant_url, token = live.tenant(TENANT_NAME)
    live.cli("lms", "department", "create", TENANT, "Sales")
    live.cli(
        "lms", "department", "create", TENANT, "Sales Operations and Enablement EMEA", "--under", "Sales"
    )
    live.cli(
        "lms",
        "department",
        "create",
        TENANT,
        "Northern Europe",
        "--under",
        "Sales Operations and Enablement EMEA",
    )
    live.cli(
        "lms",
        "department",
        "create",
        TENANT,
        "Vertriebsinnendienstkoordination",
        "--under",
        "Northern Europe",
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM}
    with httpx2.Client(base_url=tenant_url, timeout=30) as http:
        people = []
        for i in range(1, 13):
            created = http.post("/Users", json=_person(i), headers={**headers, "User-Agent": OKTA})
            assert created.status_code == 201, created.text
            people.append(created.json())
        ids = [p["id"] for p in people]
        group = http.post(
            "/Groups",
            json={
                "schemas": [GROUP],
                "displayName": "Field Sales Representatives North America",
                "members": [{"value": v} for v in ids[:8]],
            },
            headers={**headers, "User-Agent": ENLIST},
        )
        assert group.status_code == 201, group.text
        group_id = group.json()["id"]
        changed = http.patch(
            f"/Groups/{group_id}",
            json={
                "schemas": [PATCH],
                "Operations": [
                    {"op": "add", "path": "members", "value": [{"value": v} for v in ids[8:]]},
                    {"op": "remove", "path": f'members[value eq "{ids[0]}"]'},
                ],
            },
            headers={**headers, "User-Agent": ENLIST},
        )
        assert changed.status_code in (200, 204), changed.text
        for name in ("Engineering", "Customer Success"):
            made = http.post(
                "/Groups",
                json={"schemas": [GROUP], "displayName": name, "members": [{"value": ids[-1]}]},
                headers=headers,
            )
            assert made.status_code == 201, made.text
        http.patch(
            f"/Users/{ids[1]}",
            json={
                "schemas": [PATCH],
                "Operations": [{"op": "replace", "path": "title", "value": "Head of learning"}],
            },
            headers=headers,
        )
        refused = http.post("/Users", json={"schemas": [USER]}, headers={**headers, "User-Agent": OKTA})
        assert refused.status_code == 400
    live.cli("lms", "department", "move", TENANT, "Engineering", "--under", "Northern Europe")
    entries = json.loads(live.cli("lms", "log", TENANT, "--json", "--resource-id", group_id))
    member_change = next(e["id"] for e in entries if e["method"] == "PATCH")
    names = tuple(p["displayName"] for p in people[8:])
    return SeededTenant(TENANT, ids[1], group_id, member_change, names)


def portal_page_paths(seeded: SeededTenant) -> list[str]:
    """Every GET page route of the portal's admin site, its parameters filled from `seeded`.
    A route with a parameter this does not know fails the test: a new page must be covered."""
    values = {
        "tenant": seeded.slug,
        "user_id": seeded.user_id,
        "group_id": seeded.group_id,
        "entry_id": str(seeded.member_change_entry),
    }
    found = []
    for route in routes(build_site()):
        if not isinstance(route, Route) or "GET" not in (route.methods or set()):
            continue
        if not route.path.startswith("/admin"):
            continue
        missing = set(route.param_convertors) - values.keys()
        assert not missing, f"no sample value for {missing} of {route.path}: add one to portal_page_paths"
        found.append(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], route.path))
    return sorted(set(found))
