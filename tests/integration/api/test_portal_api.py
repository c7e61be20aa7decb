"""Every write of `enlist lms` through the portal's JSON API with an API token, over real HTTP,
on SQLite and PostgreSQL: what each route changes, and that the change is the CLI's."""

from __future__ import annotations

import json

import yaml

from tests.helpers import ScimTenant
from tests.integration.api.portal_api import PortalApi, api, bearer

__all__ = ["api"]  # the fixture


async def test_a_tenant_made_through_the_api_answers_scim_with_the_token_shown_once(api: PortalApi) -> None:
    writer = api.tokens["portal-write"]

    created = await api.call("POST", "/api/v1/tenants", writer, json={"name": "Initech"})
    again = await api.call("POST", "/api/v1/tenants", writer, json={"name": "Initech"})
    shown = await api.call("GET", "/api/v1/tenants/initech", writer)
    listed = await api.call("GET", "/api/v1/tenants", api.tokens["portal-read"])
    scim = await api.http.get("/scim/v2/initech/Users", headers=bearer(created.json()["secret_token"]))

    assert created.status_code == 201
    assert created.json()["tenant_url"] == "http://portal.test/scim/v2/initech"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "TenantExists"
    assert shown.status_code == 200
    assert "secret_token" not in shown.json()
    assert created.json()["secret_token"] not in shown.text
    assert [t["usable"] for t in shown.json()["tokens"]] == [True]
    assert [t["tenant"] for t in listed.json()] == ["acme", "globex", "initech"]
    assert scim.status_code == 200


async def test_rotating_with_no_overlap_and_revoking_stop_the_old_secret_tokens(api: PortalApi) -> None:
    writer = api.tokens["acme-write"]
    old = api.secrets["acme"]

    rotated = await api.call("POST", "/api/v1/tenants/acme/secret-tokens", writer, json={"overlap_hours": 0})
    new = rotated.json()["secret_token"]
    old_answer = await api.http.get("/scim/v2/acme/Users", headers=bearer(old))
    new_answer = await api.http.get("/scim/v2/acme/Users", headers=bearer(new))
    too_long = await api.call(
        "POST", "/api/v1/tenants/acme/secret-tokens", writer, json={"overlap_hours": 1e9}
    )
    revoked = await api.call("DELETE", "/api/v1/tenants/acme/secret-tokens", writer)
    after = await api.http.get("/scim/v2/acme/Users", headers=bearer(new))
    states = await api.call("GET", "/api/v1/tenants/acme/secret-tokens", writer)

    assert rotated.status_code == 201
    assert (old_answer.status_code, new_answer.status_code) == (401, 200)
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "BadPolicy"
    assert revoked.json() == {"revoked": 1}
    assert after.status_code == 401
    assert [s["usable"] for s in states.json()] == [False, False]


async def test_setting_policies_is_all_or_nothing_and_reads_back(api: PortalApi) -> None:
    writer = api.tokens["acme-write"]

    saved = await api.call("PATCH", "/api/v1/tenants/acme/policies", writer, json={"seat_limit": 5})
    refused = await api.call(
        "PATCH", "/api/v1/tenants/acme/policies", writer, json={"seat_limit": 7, "no_such_policy": "x"}
    )
    empty = await api.call("PATCH", "/api/v1/tenants/acme/policies", writer, json={})
    read = await api.call("GET", "/api/v1/tenants/acme/policies", api.tokens["acme-read"])

    assert saved.status_code == 200
    assert saved.json()["policy"]["seat_limit"] == 5
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "BadPolicy"
    assert "no_such_policy" in refused.json()["error"]["message"]
    assert empty.status_code == 400
    assert read.json()["seat_limit"] == 5


async def test_a_policy_document_exports_imports_with_a_dry_run_difference_and_round_trips(
    api: PortalApi,
) -> None:
    writer = api.tokens["acme-write"]
    exported = await api.call("GET", "/api/v1/tenants/acme/policy-document?format=json", writer)
    as_yaml = await api.call("GET", "/api/v1/tenants/acme/policy-document", writer)
    document = exported.json()
    document["policies"]["seat_limit"] = 9

    dry = await api.call("PUT", "/api/v1/tenants/acme/policy-document?dry_run=true", writer, json=document)
    unchanged = await api.call("GET", "/api/v1/tenants/acme/policies", writer)
    applied = await api.call("PUT", "/api/v1/tenants/acme/policy-document", writer, json=document)
    again = await api.call("GET", "/api/v1/tenants/acme/policy-document?format=json", writer)
    wrong_path = await api.call(
        "PUT", "/api/v1/tenants/globex/policy-document", api.tokens["portal-write"], json=document
    )

    assert yaml.safe_load(as_yaml.text) == exported.json()
    assert dry.status_code == 200
    assert dry.json()["dry_run"] is True
    assert dry.json()["changes"] == [f"~ policies.seat_limit: {json.dumps(None)} -> 9"]
    assert unchanged.json()["seat_limit"] is None
    assert applied.json()["changes"] == dry.json()["changes"]
    assert again.json() == document
    assert wrong_path.status_code == 400
    assert wrong_path.json()["error"]["code"] == "BadDocument"


async def test_importing_a_new_tenants_document_creates_it_only_with_a_token_of_the_whole_portal(
    api: PortalApi,
) -> None:
    document = (
        await api.call("GET", "/api/v1/tenants/acme/policy-document?format=json", api.tokens["acme-read"])
    ).json()
    document.update(tenant="umbrella", name="umbrella")

    by_tenant_token = await api.call(
        "PUT", "/api/v1/tenants/umbrella/policy-document", api.tokens["acme-write"], json=document
    )
    created = await api.call(
        "PUT", "/api/v1/tenants/umbrella/policy-document", api.tokens["portal-write"], json=document
    )
    scim = await api.http.get("/scim/v2/umbrella/Users", headers=bearer(created.json()["secret_token"]))

    assert by_tenant_token.status_code == 403
    assert created.status_code == 201
    assert created.json()["created"] is True
    assert scim.status_code == 200


async def test_departments_are_created_moved_and_read_as_a_tree(api: PortalApi) -> None:
    writer = api.tokens["acme-write"]
    base = "/api/v1/tenants/acme/departments"

    sales = await api.call("POST", base, writer, json={"name": "Sales"})
    north = await api.call("POST", base, writer, json={"name": "North", "parent": "Sales"})
    ops = await api.call("POST", base, writer, json={"name": "Ops"})
    moved = await api.call("POST", f"{base}/North/move", writer, json={"parent": "Ops"})
    cycle = await api.call("POST", f"{base}/Ops/move", writer, json={"parent": "North"})
    missing = await api.call("POST", base, writer, json={"name": "X", "parent": "nowhere"})
    tree = (await api.call("GET", base, api.tokens["acme-read"])).json()

    assert [a.status_code for a in (sales, north, ops)] == [201, 201, 201]
    assert moved.json()["parent_id"] == ops.json()["id"]
    assert cycle.status_code == 400
    assert cycle.json()["error"]["code"] == "BadDepartment"
    assert missing.status_code == 400
    (root,) = tree
    children = {c["name"]: [g["name"] for g in c["children"]] for c in root["children"]}
    assert children == {"Ops": ["North"], "Sales": []}


async def test_the_sync_log_filters_pages_exports_and_prunes(api: PortalApi) -> None:
    scim = ScimTenant(api.tenants["acme"], api.secrets["acme"], api.http)
    for name in ("ann", "bob", "cy"):
        await scim.create_user(f"{name}@acme.test")
    reader, base = api.tokens["acme-read"], "/api/v1/tenants/acme/sync-log"

    first = (await api.call("GET", f"{base}?limit=2", reader)).json()
    rest = (await api.call("GET", f"{base}?limit=2&before={first['next_before']}", reader)).json()
    found = (await api.call("GET", f"{base}?q=bob", reader)).json()
    csv = await api.call("GET", f"{base}?format=csv", reader)
    jsonl = await api.call("GET", f"{base}?format=jsonl&resource_type=User", reader)
    bad = await api.call("GET", f"{base}?status=teapot", reader)
    prune_by_reader = await api.call("POST", f"{base}/prune", reader)
    pruned = await api.call("POST", f"{base}/prune", api.tokens["acme-write"])

    assert len(first["entries"]) == 2
    assert len(rest["entries"]) == 1
    assert rest["next_before"] is None
    assert [e["resource_name"] for e in found["entries"]] == ["bob@acme.test"]
    assert len(csv.text.strip().splitlines()) == 4
    assert csv.headers["content-disposition"] == 'attachment; filename="acme-sync-log.csv"'
    assert len(jsonl.text.strip().splitlines()) == 3
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["message"]
    assert prune_by_reader.status_code == 403
    assert pruned.json() == {"removed": 0}  # every entry is younger than the retention


async def test_api_tokens_are_listed_without_secrets_and_revoked_per_tenant_and_for_the_portal(
    api: PortalApi,
) -> None:
    """A person mints (the CLI's function here); the API lists and revokes, and mints nothing."""
    for base, holder, reader, tenant in (
        ("/api/v1/api-tokens", "portal-write", "portal-read", None),
        ("/api/v1/tenants/acme/api-tokens", "acme-write", "acme-read", "acme"),
    ):
        writer = api.tokens[holder]
        token = await api.mint("ci", "read", tenant)
        listed = await api.call("GET", base, writer)
        listed_by_reader = await api.call("GET", base, api.tokens[reader])
        reads = await api.call("GET", "/api/v1/tenants/acme", token)
        refused = await api.call("DELETE", f"{base}/ci", api.tokens[reader])
        still = await api.call("GET", "/api/v1/tenants/acme", token)
        revoked = await api.call("DELETE", f"{base}/ci", writer)
        after = await api.call("GET", "/api/v1/tenants/acme", token)
        unknown = await api.call("DELETE", f"{base}/ci", writer)
        minting = await api.call("POST", base, writer, json={"name": "minted", "scope": "write"})

        assert all(t not in listed.text for t in [token, *api.tokens.values()]), "never a token"
        assert "ci" in [t["name"] for t in listed.json()]
        assert [t["name"] for t in listed_by_reader.json()] == [t["name"] for t in listed.json()]
        assert (reads.status_code, refused.status_code, still.status_code) == (200, 403, 200)
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert after.status_code == 401, "refused from the next request on"
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "UnknownToken"
        assert minting.status_code == 405
        assert minting.json()["error"]["code"] == "MethodNotAllowed"


async def test_a_tenant_token_revokes_only_its_own_tenants_api_tokens(api: PortalApi) -> None:
    acme = api.tokens["acme-write"]

    other_tenant = await api.call("DELETE", "/api/v1/tenants/globex/api-tokens/globex-write", acme)
    portal_wide = await api.call("DELETE", "/api/v1/api-tokens/portal-write", acme)
    portal_in_acme = await api.call("DELETE", "/api/v1/tenants/acme/api-tokens/portal-write", acme)
    still = [
        (await api.call("GET", "/api/v1/tenants", api.tokens["portal-write"])).status_code,
        (await api.call("GET", "/api/v1/tenants/globex", api.tokens["globex-write"])).status_code,
    ]

    assert (other_tenant.status_code, portal_wide.status_code) == (403, 403)
    assert portal_in_acme.status_code == 404, "the portal's token is not in acme's realm"
    assert still == [200, 200]
