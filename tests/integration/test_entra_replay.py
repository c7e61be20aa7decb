"""Entra ID's user provisioning requests, replayed as entra-scim.md describes them, state read back.

Every request shape of the specification (§1 test connection, §2.2 to §2.7 users, §7.1 quirks) is
sent the way Entra sends it: raw query strings with `+` and `%22`, capitalised ops and `"False"`
strings in the default dialect, lower-case ops, real booleans and path-less replaces with dotted
and URN-qualified keys with `aadOptscim062020` on the Tenant URL. Each test reads the resulting
state back with GET (not only the status code) and checks the portal's sync log recorded the
write. Groups are in `test_entra_replay_groups.py`, which shares the helpers here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pytest

from tests.helpers import ENTERPRISE, PATCH_OP, USER, ScimTenant, make_tenant

if TYPE_CHECKING:
    import httpx2

    from enlist.lms.api.runtime import Portal

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
FLAG = "aadOptscim062020"
BASE_URL = "http://portal.test/scim/v2/acme"
WORK_EMAIL = 'emails[type eq "work"].value'
MANAGER_URN = f"{ENTERPRISE}:manager"


@dataclass(frozen=True)
class Dialect:
    """How Entra writes a request: its default dialect, or with `?aadOptscim062020` on the Tenant URL."""

    name: str
    flag: bool

    def op(self, name: str) -> str:
        """`Add`/`Replace`/`Remove` by default, lower case with the flag (Q1)."""
        return name.lower() if self.flag else name.capitalize()

    def boolean(self, value: bool) -> bool | str:
        """`"True"`/`"False"` by default, real booleans with the flag (Q2)."""
        return value if self.flag else str(value)

    def url(self, t: ScimTenant, path: str, query: str = "") -> str:
        """The request URL; the flag stays on the Tenant URL's query string (Q20)."""
        params = [p for p in (FLAG if self.flag else "", query) if p]
        return t.base + path + ("?" + "&".join(params) if params else "")

    def set_attributes(self, attributes: dict[str, Any]) -> list[dict[str, Any]]:
        """Simple attributes: one `Replace` each by default (§2.5.1), one path-less replace with the flag (§2.5.3)."""
        if self.flag:
            return [{"op": "replace", "value": attributes}]
        return [{"op": "Replace", "path": path, "value": value} for path, value in attributes.items()]

    def set_active(self, active: bool) -> dict[str, Any]:
        """Disable/enable (§2.5.2)."""
        return {"op": self.op("replace"), "path": "active", "value": self.boolean(active)}


ENTRA_DEFAULT = Dialect("default", flag=False)
ENTRA_FLAG = Dialect(FLAG, flag=True)
each_dialect = pytest.mark.parametrize("dialect", [ENTRA_DEFAULT, ENTRA_FLAG], ids=lambda d: d.name)


def entra_query(**params: str) -> str:
    """A query string as Entra writes it on the wire: spaces as `+`, quotes as `%22` (§1.1, §4.2)."""
    return "&".join(f"{key}={quote_plus(value)}" for key, value in params.items())


async def entra_get(
    t: ScimTenant, path: str, dialect: Dialect = ENTRA_DEFAULT, **params: str
) -> httpx2.Response:
    return await t.http.get(dialect.url(t, path, entra_query(**params)), headers=t.headers())


async def entra_post(t: ScimTenant, dialect: Dialect, path: str, body: dict[str, Any]) -> httpx2.Response:
    return await t.http.post(dialect.url(t, path), json=body, headers=t.headers())


async def entra_patch(
    t: ScimTenant, dialect: Dialect, path: str, operations: list[dict[str, Any]]
) -> httpx2.Response:
    body = {"schemas": [PATCH_OP], "Operations": operations}
    return await t.http.patch(dialect.url(t, path), json=body, headers=t.headers())


async def entra_delete(t: ScimTenant, dialect: Dialect, path: str) -> httpx2.Response:
    return await t.http.delete(dialect.url(t, path), headers=t.headers())


async def read(t: ScimTenant, path: str) -> dict[str, Any]:
    """GET a resource; it must exist."""
    response = await t.http.get(t.base + path, headers=t.headers())
    assert response.status_code == 200, response.text
    return dict(response.json())


async def query(t: ScimTenant, path: str, **params: str) -> list[dict[str, Any]]:
    """The resources a filtered GET (Entra encoding) answers; it must be a 200 ListResponse."""
    response = await entra_get(t, path, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == len(body.get("Resources", [])), body
    return list(body.get("Resources", []))


async def sync_log(t: ScimTenant) -> list[dict[str, Any]]:
    """The tenant's sync log from the admin JSON API, newest first."""
    response = await t.http.get(
        f"/api/v1/tenants/{t.tenant.slug}/sync-log", headers={"Authorization": f"Bearer {t.token}"}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


async def logged(
    t: ScimTenant, *, status: int, resource_id: str, action: str | None = None
) -> dict[str, Any]:
    """The newest sync log entry, checked to record the write that was just made."""
    entries = await sync_log(t)
    assert entries, "the write left no sync log entry"
    entry = entries[0]
    assert entry["status"] == status, entry
    assert entry["resource_id"] == resource_id, entry
    if action is not None:
        assert entry["action"] == action, entry
    return entry


def entra_user(user_name: str, **extra: Any) -> dict[str, Any]:
    """The body of Entra's documented `POST /Users` (§2.3)."""
    body: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE],
        "externalId": str(uuid.uuid4()),
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": f"mail.{user_name}"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    }
    body.update(extra)
    return body


async def provision(t: ScimTenant, user_name: str, **extra: Any) -> dict[str, Any]:
    response = await entra_post(t, ENTRA_DEFAULT, "/Users", entra_user(user_name, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


def manager_of(user: dict[str, Any]) -> Any:
    return (user.get(ENTERPRISE) or {}).get("manager")


# §1 Test connection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "filter=userName+eq+%22{guid}%22",
        "aadOptscim062020&filter=userName+eq+%22{guid}%22",
        "filter=userName+eq+%22{guid}%22&aadOptscim062020",
        "filter=externalId+eq+%22{guid}%22",
    ],
    ids=["userName", "flag-first", "flag-last", "externalId"],
)
async def test_probe_for_a_random_guid_answers_200_with_an_empty_list_response(
    portal: Portal, http: httpx2.AsyncClient, template: str
) -> None:
    t = await make_tenant(portal, http)
    await provision(t, "someone@contoso.com")
    probe = template.format(guid=uuid.uuid4())
    response = await t.http.get(f"{t.base}/Users?{probe}", headers=t.headers())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == 0
    assert body.get("Resources", []) == []
    assert body["startIndex"] == 1


@each_dialect
async def test_group_probe_with_excluded_members_answers_200_with_an_empty_list_response(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    await t.create_group("Org Admin")
    probe = f"excludedAttributes=members&filter=displayName+eq+%22{uuid.uuid4()}%22"
    response = await t.http.get(dialect.url(t, "/Groups", probe), headers=t.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == 0
    assert body.get("Resources", []) == []


# §2.2 Matching --------------------------------------------------------------------------------


async def test_user_name_eq_filter_with_entra_encoding_returns_only_that_user(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    user_name = "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
    created = await provision(t, user_name)
    await provision(t, "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff")
    response = await t.http.get(f"{t.base}/Users?filter=userName+eq+%22{user_name}%22", headers=t.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalResults"] == 1
    found = body["Resources"][0]
    assert found["id"] == created["id"]
    assert found["userName"] == user_name
    assert found["active"] is True


async def test_user_name_eq_filter_with_raw_quotes_and_encoded_at_sign_returns_the_user(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    created = await provision(t, "dale.mohr@romaguera.uk")
    response = await t.http.get(
        f'{t.base}/Users?filter=userName+eq+"dale.mohr%40romaguera.uk"', headers=t.headers()
    )
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["Resources"]] == [created["id"]]


@pytest.mark.parametrize("value", ["jyoung", "%22jyoung%22"], ids=["unquoted", "quoted"])
async def test_external_id_eq_filter_returns_the_user(
    portal: Portal, http: httpx2.AsyncClient, value: str
) -> None:
    t = await make_tenant(portal, http)
    created = await provision(t, "jyoung@contoso.com", externalId="jyoung")
    await provision(t, "jyoung2@contoso.com", externalId="jyoung2")
    response = await t.http.get(f"{t.base}/Users?filter=externalId+eq+{value}", headers=t.headers())
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["Resources"]] == [created["id"]]


async def test_work_email_value_filter_returns_the_user(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    created = await provision(
        t, "jdoe", emails=[{"primary": True, "type": "work", "value": "Test_User_11bb@testuser.com"}]
    )
    await provision(t, "other")
    found = await query(t, "/Users", filter='emails[type eq "work"].value eq "Test_User_11bb@testuser.com"')
    assert [r["id"] for r in found] == [created["id"]]


async def test_work_email_value_filter_ignores_other_email_types(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await provision(t, "jdoe", emails=[{"type": "home", "value": "jdoe@home.example"}])
    assert await query(t, "/Users", filter='emails[type eq "work"].value eq "jdoe@home.example"') == []


# §2.3 Create ----------------------------------------------------------------------------------


@each_dialect
async def test_create_with_entra_documented_body_answers_201_and_reads_back(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    body = entra_user("Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee")
    response = await entra_post(t, dialect, "/Users", body)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    uid = response.json()["id"]
    assert uid
    stored = await read(t, f"/Users/{uid}")
    assert stored["id"] == uid
    assert stored["userName"] == body["userName"]
    assert stored["externalId"] == body["externalId"]
    assert stored["emails"] == body["emails"]
    assert stored["name"] == body["name"]
    assert stored["active"] is True
    assert stored.get("roles", []) == []
    assert stored["meta"]["resourceType"] == "User"
    entry = await logged(t, status=201, resource_id=uid, action="create")
    assert entry["method"] == "POST"


@pytest.mark.parametrize(("sent", "active"), [("True", True), ("true", True), ("False", False)])
async def test_create_with_active_as_a_string_stores_a_boolean(
    portal: Portal, http: httpx2.AsyncClient, sent: str, active: bool
) -> None:
    t = await make_tenant(portal, http)
    created = await provision(t, "emp1@contoso.com", active=sent)
    stored = await read(t, f"/Users/{created['id']}")
    assert stored["active"] is active
    await logged(t, status=201, resource_id=created["id"])


async def test_create_round_trips_every_default_mapped_value_byte_identical(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    body = {
        "schemas": [USER, ENTERPRISE],
        "externalId": "jdoe",
        "userName": "JDoe@Contoso.com",
        "active": True,
        "displayName": "John Doe",
        "title": "Engineer",
        "preferredLanguage": "en-US",
        "emails": [{"primary": True, "type": "work", "value": "JDoe@Contoso.com"}],
        "name": {"formatted": "John Doe", "givenName": "John", "familyName": "Doe"},
        "addresses": [
            {
                "type": "work",
                "formatted": "Bldg 1",
                "streetAddress": "1 Main St",
                "locality": "Redmond",
                "region": "WA",
                "postalCode": "98052",
                "country": "US",
                "primary": True,
            }
        ],
        "phoneNumbers": [
            {"type": "work", "value": "+1 425 555 0100"},
            {"type": "mobile", "value": "+1 425 555 0101"},
            {"type": "fax", "value": "55555555555"},
        ],
        ENTERPRISE: {"employeeNumber": "001234", "department": "R&D"},
        "meta": {"resourceType": "User"},
    }
    response = await entra_post(t, ENTRA_DEFAULT, "/Users", body)
    assert response.status_code == 201, response.text
    stored = await read(t, f"/Users/{response.json()['id']}")
    for key in ("externalId", "userName", "displayName", "title", "preferredLanguage", "emails", "name"):
        assert stored[key] == body[key], key
    assert stored["addresses"] == body["addresses"]
    assert stored["phoneNumbers"] == body["phoneNumbers"]
    assert stored[ENTERPRISE] == body[ENTERPRISE]
    assert ENTERPRISE in stored["schemas"]


async def test_create_tolerates_null_attributes_from_the_legacy_client(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    created = await provision(
        t,
        "legacy@contoso.com",
        addresses=None,
        phoneNumbers=None,
        title=None,
        **{ENTERPRISE: {"manager": None}},
    )
    stored = await read(t, f"/Users/{created['id']}")
    assert "addresses" not in stored
    assert "phoneNumbers" not in stored
    assert "title" not in stored
    assert manager_of(stored) is None


async def test_create_keeps_a_custom_extension_not_listed_in_schemas(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
    created = await provision(t, "custom@contoso.com", **{custom: {"CustomAttribute": "Value"}})
    stored = await read(t, f"/Users/{created['id']}")
    assert stored[custom] == {"CustomAttribute": "Value"}


async def test_create_with_a_mapped_role_round_trips_it(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    roles = [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]
    created = await provision(t, "admin@contoso.com", roles=roles)
    stored = await read(t, f"/Users/{created['id']}")
    assert stored["roles"] == roles


async def test_add_roles_with_stringified_json_value_stores_the_role(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "role@contoso.com"))["id"]
    role = '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}'
    response = await entra_patch(
        t, ENTRA_DEFAULT, f"/Users/{uid}", [{"op": "Add", "path": "roles", "value": [{"value": role}]}]
    )
    assert response.status_code == 200, response.text
    roles = (await read(t, f"/Users/{uid}"))["roles"]
    assert [(r["value"], r.get("display")) for r in roles] == [("25", "Role1234")]
    await logged(t, status=200, resource_id=uid, action="update")


# §2.5.2 active --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "op", "value"),
    [
        (ENTRA_DEFAULT, "Replace", "False"),
        (ENTRA_DEFAULT, "Replace", "false"),
        (ENTRA_DEFAULT, "Replace", False),
        (ENTRA_FLAG, "replace", False),
    ],
    ids=["default-string", "lowercase-string", "default-boolean", "flag-boolean"],
)
async def test_replace_active_false_deactivates_user(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect, op: str, value: object
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "leaver@contoso.com"))["id"]
    response = await entra_patch(t, dialect, f"/Users/{uid}", [{"op": op, "path": "active", "value": value}])
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert (await read(t, f"/Users/{uid}"))["active"] is False
    entry = await logged(t, status=200, resource_id=uid, action="deactivate")
    assert entry["changes"] == [{"attribute": "status", "old": "active", "new": "inactive"}]


@pytest.mark.parametrize(
    ("dialect", "op", "value"),
    [(ENTRA_DEFAULT, "Replace", "True"), (ENTRA_DEFAULT, "Replace", "true"), (ENTRA_FLAG, "replace", True)],
    ids=["default-string", "lowercase-string", "flag-boolean"],
)
async def test_replace_active_true_reactivates_user(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect, op: str, value: object
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "returner@contoso.com"))["id"]
    disabled = await entra_patch(t, dialect, f"/Users/{uid}", [dialect.set_active(False)])
    assert disabled.status_code == 200, disabled.text
    response = await entra_patch(t, dialect, f"/Users/{uid}", [{"op": op, "path": "active", "value": value}])
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))["active"] is True
    entry = await logged(t, status=200, resource_id=uid, action="activate")
    assert entry["changes"] == [{"attribute": "status", "old": "inactive", "new": "active"}]


# §2.5.1 / §2.5.3 attribute updates ------------------------------------------------------------


@each_dialect
async def test_replace_on_filtered_work_email_path_changes_only_the_work_email(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    emails = [
        {"primary": True, "type": "work", "value": "old@contoso.com"},
        {"type": "home", "value": "me@home.example"},
    ]
    uid = (await provision(t, "mover@contoso.com", emails=emails))["id"]
    op = {"op": dialect.op("replace"), "path": WORK_EMAIL, "value": "updatedEmail@microsoft.com"}
    response = await entra_patch(t, dialect, f"/Users/{uid}", [op])
    assert response.status_code == 200, response.text
    stored = await read(t, f"/Users/{uid}")
    assert stored["emails"] == [
        {"primary": True, "type": "work", "value": "updatedEmail@microsoft.com"},
        {"type": "home", "value": "me@home.example"},
    ]
    found = await query(t, "/Users", filter='emails[type eq "work"].value eq "updatedEmail@microsoft.com"')
    assert [r["id"] for r in found] == [uid]
    await logged(t, status=200, resource_id=uid, action="update")


@each_dialect
async def test_add_on_filtered_email_path_creates_work_email(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    body = entra_user("noemail@contoso.com")
    del body["emails"]
    created = await entra_post(t, ENTRA_DEFAULT, "/Users", body)
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    op = {"op": dialect.op("add"), "path": WORK_EMAIL, "value": "new@contoso.com"}
    response = await entra_patch(t, dialect, f"/Users/{uid}", [op])
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))["emails"] == [{"type": "work", "value": "new@contoso.com"}]
    found = await query(t, "/Users", filter='emails[type eq "work"].value eq "new@contoso.com"')
    assert [r["id"] for r in found] == [uid]
    await logged(t, status=200, resource_id=uid, action="update")


@each_dialect
async def test_replace_on_filtered_email_path_creates_work_email_when_missing(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "homeonly@contoso.com", emails=[{"type": "home", "value": "me@home.example"}]))[
        "id"
    ]
    op = {"op": dialect.op("replace"), "path": WORK_EMAIL, "value": "new@contoso.com"}
    response = await entra_patch(t, dialect, f"/Users/{uid}", [op])
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))["emails"] == [
        {"type": "home", "value": "me@home.example"},
        {"type": "work", "value": "new@contoso.com"},
    ]


@each_dialect
async def test_replace_name_family_name_updates_only_the_family_name(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "family@contoso.com"))["id"]
    response = await entra_patch(
        t, dialect, f"/Users/{uid}", dialect.set_attributes({"name.familyName": "updatedFamilyName"})
    )
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))["name"] == {
        "formatted": "givenName familyName",
        "familyName": "updatedFamilyName",
        "givenName": "givenName",
    }
    entry = await logged(t, status=200, resource_id=uid, action="update")
    assert entry["changes"] == [
        {"attribute": "name.familyName", "old": "familyName", "new": "updatedFamilyName"}
    ]


async def test_attribute_names_in_patch_paths_match_in_any_case(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "case@contoso.com"))["id"]
    ops = [{"op": "Replace", "path": "name.FamilyName", "value": "Pkqf"}]
    response = await entra_patch(t, ENTRA_DEFAULT, f"/Users/{uid}", ops)
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))["name"]["familyName"] == "Pkqf"


@each_dialect
async def test_replace_urn_qualified_employee_number_updates_only_it(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (
        await provision(t, "emp@contoso.com", **{ENTERPRISE: {"employeeNumber": "1234", "department": "R&D"}})
    )["id"]
    ops = dialect.set_attributes({f"{ENTERPRISE}:employeeNumber": "Eqpj"})
    response = await entra_patch(t, dialect, f"/Users/{uid}", ops)
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))[ENTERPRISE] == {"employeeNumber": "Eqpj", "department": "R&D"}
    entry = await logged(t, status=200, resource_id=uid, action="update")
    assert entry["changes"] == [{"attribute": "employeeNumber", "old": "1234", "new": "Eqpj"}]


@each_dialect
async def test_replace_user_name_renames_the_user(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "before@testuser.com"))["id"]
    renamed = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    response = await entra_patch(t, dialect, f"/Users/{uid}", dialect.set_attributes({"userName": renamed}))
    assert response.status_code == 200, response.text
    assert response.json()["userName"] == renamed
    assert await query(t, "/Users", filter='userName eq "before@testuser.com"') == []
    assert [r["id"] for r in await query(t, "/Users", filter=f'userName eq "{renamed}"')] == [uid]
    entry = await logged(t, status=200, resource_id=uid, action="update")
    assert entry["changes"] == [{"attribute": "userName", "old": "before@testuser.com", "new": renamed}]


async def test_post_with_a_user_name_freed_by_a_rename_creates_a_new_user(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "recycled@testuser.com"))["id"]
    ops = [{"op": "Replace", "path": "userName", "value": "renamed@testuser.com"}]
    assert (await entra_patch(t, ENTRA_DEFAULT, f"/Users/{uid}", ops)).status_code == 200
    again = await provision(t, "recycled@testuser.com")
    assert again["id"] != uid
    assert (await read(t, f"/Users/{uid}"))["userName"] == "renamed@testuser.com"


@each_dialect
async def test_replace_external_id_moves_matching_to_the_new_value(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "ext@contoso.com", externalId="old-anchor"))["id"]
    response = await entra_patch(t, dialect, f"/Users/{uid}", dialect.set_attributes({"externalId": "Eqpj"}))
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))["externalId"] == "Eqpj"
    assert await query(t, "/Users", filter='externalId eq "old-anchor"') == []
    assert [r["id"] for r in await query(t, "/Users", filter='externalId eq "Eqpj"')] == [uid]
    await logged(t, status=200, resource_id=uid, action="update")


@pytest.mark.parametrize(
    ("dialect", "operations"),
    [
        (ENTRA_DEFAULT, [{"op": "Add", "path": "nickName", "value": "Babs"}]),
        (ENTRA_FLAG, [{"op": "add", "value": {"nickName": "Babs"}}]),
    ],
    ids=["default", FLAG],
)
async def test_add_single_valued_string_attribute_sets_it(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect, operations: list[dict[str, Any]]
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "babs@contoso.com"))["id"]
    response = await entra_patch(t, dialect, f"/Users/{uid}", operations)
    assert response.status_code == 200, response.text
    assert (await read(t, f"/Users/{uid}"))["nickName"] == "Babs"
    entry = await logged(t, status=200, resource_id=uid, action="update")
    assert entry["changes"] == [{"attribute": "nickName", "old": None, "new": "Babs"}]


async def test_add_on_an_attribute_that_already_has_a_value_replaces_it(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "twice@contoso.com", displayName="Old Name"))["id"]
    ops = [{"op": "Add", "path": "displayName", "value": "New Name"}]
    assert (await entra_patch(t, ENTRA_DEFAULT, f"/Users/{uid}", ops)).status_code == 200
    assert (await read(t, f"/Users/{uid}"))["displayName"] == "New Name"


async def test_default_dialect_replace_of_multiple_attributes_applies_every_operation(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    created = await provision(
        t, "multi@contoso.com", displayName="Before", **{ENTERPRISE: {"employeeNumber": "1"}}
    )
    uid = created["id"]
    ops = [
        {"op": "Replace", "path": "displayName", "value": "Pvlo"},
        {"op": "Replace", "path": WORK_EMAIL, "value": "TestBcwqnm@test.microsoft.com"},
        {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
        {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
        {"op": "Replace", "path": "externalId", "value": "Eqpj"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
    ]
    response = await entra_patch(t, ENTRA_DEFAULT, f"/Users/{uid}", ops)
    assert response.status_code == 200, response.text
    stored = await read(t, f"/Users/{uid}")
    assert stored["displayName"] == "Pvlo"
    assert stored["emails"] == [{"primary": True, "type": "work", "value": "TestBcwqnm@test.microsoft.com"}]
    assert stored["name"] == {"formatted": "givenName familyName", "givenName": "Gtfd", "familyName": "Pkqf"}
    assert stored["externalId"] == "Eqpj"
    assert stored[ENTERPRISE] == {"employeeNumber": "Eqpj"}
    entry = await logged(t, status=200, resource_id=uid, action="update")
    changed = {c["attribute"] for c in entry["changes"]}
    assert changed == {
        "displayName",
        "emails",
        "name.givenName",
        "name.familyName",
        "externalId",
        "employeeNumber",
    }


async def test_pathless_replace_with_dotted_keys_updates_name(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    created = await provision(
        t, "flag@contoso.com", displayName="Before", **{ENTERPRISE: {"employeeNumber": "1"}}
    )
    uid = created["id"]
    ops = [
        {"op": "replace", "path": WORK_EMAIL, "value": "TestMhvaes@test.microsoft.com"},
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENTERPRISE}:employeeNumber": "Aklq",
            },
        },
    ]
    response = await entra_patch(t, ENTRA_FLAG, f"/Users/{uid}", ops)
    assert response.status_code == 200, response.text
    stored = await read(t, f"/Users/{uid}")
    assert stored["displayName"] == "Bjfe"
    assert stored["name"] == {"formatted": "givenName familyName", "givenName": "Kkom", "familyName": "Unua"}
    assert stored[ENTERPRISE] == {"employeeNumber": "Aklq"}
    assert stored["emails"] == [{"primary": True, "type": "work", "value": "TestMhvaes@test.microsoft.com"}]
    assert "name.givenName" not in stored
    assert f"{ENTERPRISE}:employeeNumber" not in stored
    entry = await logged(t, status=200, resource_id=uid, action="update")
    changed = {c["attribute"] for c in entry["changes"]}
    assert changed == {"displayName", "emails", "name.givenName", "name.familyName", "employeeNumber"}


# §2.7 Manager ---------------------------------------------------------------------------------


def complex_manager(manager_id: str) -> dict[str, str]:
    return {"value": manager_id, "$ref": f"{BASE_URL}/Users/{manager_id}"}


@each_dialect
async def test_add_manager_as_bare_string_on_enterprise_urn_path_sets_manager(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    mid = (await provision(t, "boss@contoso.com"))["id"]
    uid = (await provision(t, "report@contoso.com"))["id"]
    response = await entra_patch(
        t, dialect, f"/Users/{uid}", [{"op": dialect.op("add"), "path": MANAGER_URN, "value": mid}]
    )
    assert response.status_code == 200, response.text
    stored = await read(t, f"/Users/{uid}")
    assert manager_of(stored) == complex_manager(mid)
    assert ENTERPRISE in stored["schemas"]
    entry = await logged(t, status=200, resource_id=uid, action="update")
    assert [c["attribute"] for c in entry["changes"]] == ["manager"]


async def test_add_manager_with_legacy_ref_value_list_sets_manager(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    mid = (await provision(t, "boss@contoso.com"))["id"]
    uid = (await provision(t, "report@contoso.com"))["id"]
    value = [{"$ref": f"{BASE_URL}/Users/{mid}", "value": mid}]
    response = await entra_patch(
        t, ENTRA_DEFAULT, f"/Users/{uid}", [{"op": "Add", "path": "manager", "value": value}]
    )
    assert response.status_code == 200, response.text
    assert manager_of(await read(t, f"/Users/{uid}")) == complex_manager(mid)
    await logged(t, status=200, resource_id=uid, action="update")


async def test_create_with_manager_as_bare_string_returns_a_complex_manager(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    mid = (await provision(t, "boss@contoso.com"))["id"]
    created = await provision(t, "report@contoso.com", **{ENTERPRISE: {"manager": mid, "department": "R&D"}})
    stored = await read(t, f"/Users/{created['id']}")
    assert stored[ENTERPRISE] == {"manager": complex_manager(mid), "department": "R&D"}


async def user_with_manager(t: ScimTenant) -> tuple[str, str]:
    """(user id, manager id): a report whose manager was set the way Entra sets it."""
    mid = (await provision(t, "boss@contoso.com"))["id"]
    uid = (await provision(t, "report@contoso.com", **{ENTERPRISE: {"manager": mid, "department": "R&D"}}))[
        "id"
    ]
    return uid, mid


@each_dialect
async def test_remove_manager_with_value_filter_clears_manager(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid, mid = await user_with_manager(t)
    op = {"op": dialect.op("remove"), "path": f'manager[value eq "{mid}"]'}
    response = await entra_patch(t, dialect, f"/Users/{uid}", [op])
    assert response.status_code == 200, response.text
    stored = await read(t, f"/Users/{uid}")
    assert manager_of(stored) is None
    assert stored[ENTERPRISE] == {"department": "R&D"}
    entry = await logged(t, status=200, resource_id=uid, action="update")
    assert entry["changes"] == [{"attribute": "manager", "old": {"value": mid}, "new": None}]


async def test_remove_manager_with_filter_naming_someone_else_keeps_manager(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid, mid = await user_with_manager(t)
    op = {"op": "remove", "path": f'manager[value eq "{uuid.uuid4()}"]'}
    response = await entra_patch(t, ENTRA_FLAG, f"/Users/{uid}", [op])
    assert response.status_code == 200, response.text
    assert manager_of(await read(t, f"/Users/{uid}")) == complex_manager(mid)


@each_dialect
async def test_replace_manager_with_empty_string_clears_manager(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid, _ = await user_with_manager(t)
    op = {"op": dialect.op("replace"), "path": MANAGER_URN, "value": ""}
    response = await entra_patch(t, dialect, f"/Users/{uid}", [op])
    assert response.status_code == 200, response.text
    assert manager_of(await read(t, f"/Users/{uid}")) is None
    await logged(t, status=200, resource_id=uid, action="update")


@pytest.mark.parametrize("path", ["manager", MANAGER_URN])
async def test_remove_manager_path_clears_manager(
    portal: Portal, http: httpx2.AsyncClient, path: str
) -> None:
    t = await make_tenant(portal, http)
    uid, _ = await user_with_manager(t)
    response = await entra_patch(t, ENTRA_DEFAULT, f"/Users/{uid}", [{"op": "Remove", "path": path}])
    assert response.status_code == 200, response.text
    assert manager_of(await read(t, f"/Users/{uid}")) is None
    await logged(t, status=200, resource_id=uid, action="update")


@pytest.mark.parametrize("quote", ["%22", ""], ids=["quoted", "unquoted-legacy"])
async def test_id_and_manager_filter_returns_the_user_when_the_manager_matches(
    portal: Portal, http: httpx2.AsyncClient, quote: str
) -> None:
    t = await make_tenant(portal, http)
    uid, mid = await user_with_manager(t)
    q = f"filter=id+eq+{quote}{uid}{quote}+and+manager+eq+{quote}{mid}{quote}&attributes=id"
    response = await t.http.get(f"{t.base}/Users?{q}", headers=t.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalResults"] == 1
    assert body["Resources"][0]["id"] == uid
    assert "userName" not in body["Resources"][0]


async def test_id_and_manager_filter_returns_nothing_when_the_manager_differs(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid, mid = await user_with_manager(t)
    other = (await provision(t, "other@contoso.com"))["id"]
    assert await query(t, "/Users", filter=f'id eq "{uid}" and manager eq "{other}"', attributes="id") == []
    assert await query(t, "/Users", filter=f'id eq "{mid}" and manager eq "{mid}"', attributes="id") == []


# §2.6 Deprovisioning --------------------------------------------------------------------------


@each_dialect
async def test_disabled_user_is_still_returned_by_get_with_active_false(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "disabled@contoso.com"))["id"]
    assert (await entra_patch(t, dialect, f"/Users/{uid}", [dialect.set_active(False)])).status_code == 200
    stored = await read(t, f"/Users/{uid}")
    assert stored["active"] is False
    assert stored["userName"] == "disabled@contoso.com"


@each_dialect
async def test_disabled_user_is_still_found_by_filter_with_active_false(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "disabled@contoso.com"))["id"]
    assert (await entra_patch(t, dialect, f"/Users/{uid}", [dialect.set_active(False)])).status_code == 200
    found = await query(t, "/Users", filter='userName eq "disabled@contoso.com"')
    assert [(r["id"], r["active"]) for r in found] == [(uid, False)]


@each_dialect
async def test_delete_user_answers_204_then_get_is_404(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "gone@contoso.com"))["id"]
    response = await entra_delete(t, dialect, f"/Users/{uid}")
    assert response.status_code == 204, response.text
    assert response.content == b""
    missing = await t.http.get(f"{t.base}/Users/{uid}", headers=t.headers())
    assert missing.status_code == 404
    assert missing.json()["schemas"] == [ERROR]
    assert missing.json()["status"] == "404"
    entry = await logged(t, status=204, resource_id=uid)
    assert entry["method"] == "DELETE"


async def test_deleted_user_is_not_found_by_user_name_filter(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "gone@contoso.com"))["id"]
    assert (await entra_delete(t, ENTRA_DEFAULT, f"/Users/{uid}")).status_code == 204
    assert await query(t, "/Users", filter='userName eq "gone@contoso.com"') == []


async def test_post_after_delete_with_the_same_user_name_restores_the_user(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "back@contoso.com", externalId="first"))["id"]
    assert (await entra_delete(t, ENTRA_DEFAULT, f"/Users/{uid}")).status_code == 204
    response = await entra_post(
        t, ENTRA_DEFAULT, "/Users", entra_user("back@contoso.com", externalId="second")
    )
    assert response.status_code == 201, response.text
    restored = response.json()["id"]
    stored = await read(t, f"/Users/{restored}")
    assert stored["userName"] == "back@contoso.com"
    assert stored["externalId"] == "second"
    assert stored["active"] is True
    assert [r["id"] for r in await query(t, "/Users", filter='userName eq "back@contoso.com"')] == [restored]
    await logged(t, status=201, resource_id=restored)


# Sync log -------------------------------------------------------------------------------------


async def test_sync_log_lists_a_users_writes_newest_first(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    uid = (await provision(t, "logged@contoso.com"))["id"]
    assert (
        await entra_patch(t, ENTRA_DEFAULT, f"/Users/{uid}", [ENTRA_DEFAULT.set_active(False)])
    ).status_code == 200
    assert (await entra_delete(t, ENTRA_DEFAULT, f"/Users/{uid}")).status_code == 204
    entries = [e for e in await sync_log(t) if e["resource_id"] == uid]
    assert [(e["method"], e["status"]) for e in entries] == [("DELETE", 204), ("PATCH", 200), ("POST", 201)]
    assert [e["action"] for e in entries[1:]] == ["deactivate", "create"]
    created = {c["attribute"]: c for c in entries[2]["changes"]}
    assert created["userName"] == {"attribute": "userName", "old": None, "new": "logged@contoso.com"}


async def test_sync_log_records_a_rejected_create_with_its_status(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await provision(t, "taken@contoso.com")
    response = await entra_post(t, ENTRA_DEFAULT, "/Users", entra_user("taken@contoso.com"))
    assert response.status_code == 409
    assert response.json()["scimType"] == "uniqueness"
    entry = (await sync_log(t))[0]
    assert (entry["method"], entry["status"], entry["action"]) == ("POST", 409, "create")
    assert entry["error"]
