"""`enlist lms role …` and `enlist lms smart-group …` against a live portal, as an admin runs them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import CreatedTenant, create_group, create_user, enlist, enlist_json, new_tenant, scim
from tests.live import LivePortal


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("portal"), None).start()
    yield live
    live.stop()


@pytest.fixture
def tenant(portal: LivePortal) -> CreatedTenant:
    return new_tenant(portal)


def test_a_role_rule_added_lists_grants_and_is_removed(portal: LivePortal, tenant: CreatedTenant) -> None:
    with scim(tenant.tenant_url, tenant.token) as client:
        ann = create_user(client, "ann@acme.example")
        create_group(client, "Sales Managers", [ann])
    rule = enlist_json(portal, "lms", "role", "add", tenant.slug, "sales managers", "manager", "--json")
    assert rule == {"id": rule["id"], "group": "sales managers", "role": "manager", "department": None}
    assert enlist_json(portal, "lms", "role", "list", tenant.slug, "--json") == [rule]
    assert enlist_json(portal, "lms", "role", "list", tenant.slug, "--holders", "manager", "--json") == [ann]
    shown = enlist(portal, "lms", "role", "user", tenant.slug, ann)
    assert shown.stdout.strip() == "manager because member of IdP group Sales Managers"
    removed = enlist(portal, "lms", "role", "remove", tenant.slug, str(rule["id"]))
    assert removed.returncode == 0, removed.stderr
    assert enlist_json(portal, "lms", "role", "user", tenant.slug, ann, "--json") == {
        "roles": [],
        "smartGroups": [],
    }


def test_a_department_admin_rule_names_its_department(portal: LivePortal, tenant: CreatedTenant) -> None:
    assert enlist(portal, "lms", "department", "create", tenant.slug, "Sales").returncode == 0
    rule = enlist_json(
        portal,
        "lms",
        "role",
        "add",
        tenant.slug,
        "ext-1",
        "department_admin",
        "--department",
        "sales",
        "--json",
    )
    assert rule["department"]["name"] == "Sales"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("role", "add", "{t}", "G", "department_admin"), "needs a department"),
        (("role", "add", "{t}", "G", "department_admin", "--department", "Nowhere"), "no department named"),
        (("role", "remove", "{t}", "999"), "no role rule 999"),
        (("role", "user", "{t}", "no-such-user"), "no user with id"),
        (("smart-group", "add", "{t}", "G", 'title co "x'), "not a SCIM filter"),
        (("smart-group", "show", "{t}", "nothing"), "no smart group"),
        (("role", "list", "no-such-tenant"), "no-such-tenant"),
    ],
)
def test_an_admin_mistake_is_one_line_with_exit_status_1(
    portal: LivePortal, tenant: CreatedTenant, args: tuple[str, ...], words: str
) -> None:
    done = enlist(portal, "lms", *(a.replace("{t}", tenant.slug) for a in args))
    assert done.returncode == 1, done.stdout
    assert words in done.stderr
    assert "Traceback" not in done.stderr


def test_a_smart_group_shows_the_users_its_rule_selects(portal: LivePortal, tenant: CreatedTenant) -> None:
    with scim(tenant.tenant_url, tenant.token) as client:
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "m@x.example"}
        manager = client.post("/Users", json={**body, "title": "Sales Manager"}).json()["id"]
        create_user(client, "e@x.example")
    added = enlist_json(
        portal, "lms", "smart-group", "add", tenant.slug, "Managers", 'title co "manager"', "--json"
    )
    assert enlist_json(portal, "lms", "smart-group", "list", tenant.slug, "--json") == [added]
    shown = enlist_json(portal, "lms", "smart-group", "show", tenant.slug, "managers", "--json")
    assert shown["members"] == [{"id": manager, "userName": "m@x.example"}]
    reasons = enlist_json(portal, "lms", "role", "user", tenant.slug, manager, "--json")["smartGroups"]
    assert [r["reason"] for r in reasons] == ['member of smart group Managers because title co "manager"']
    assert enlist(portal, "lms", "smart-group", "remove", tenant.slug, "Managers").returncode == 0
    assert enlist_json(portal, "lms", "smart-group", "list", tenant.slug, "--json") == []
