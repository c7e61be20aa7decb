"""The department tree rule from the command line, against a running portal written to over real
HTTP (ADR 0034): `tenant set` takes its keys, `tenant show` prints them, `department list` shows
the tree the rule built."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import CreatedTenant, create_group, create_user, enlist, enlist_json, new_tenant, scim
from tests.helpers import ENTERPRISE, USER
from tests.live import LivePortal


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("portal"), None).start()
    yield live
    live.stop()


@pytest.fixture
def tenant(portal: LivePortal) -> CreatedTenant:
    return new_tenant(portal)


def names(nodes: list[dict[str, object]]) -> dict[str, object]:
    """The tree below a node as nested names."""
    return {str(n["name"]): names(n["children"]) for n in nodes}  # type: ignore[arg-type]


def test_set_takes_the_rule_keys_show_prints_them_and_scim_writes_build_the_tree(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    changed = enlist(
        portal, "lms", "tenant", "set", tenant.slug, "department_source=attribute", "department_separator= > "
    )
    assert changed.returncode == 0, changed.stderr
    shown = enlist(portal, "lms", "tenant", "show", tenant.slug)
    assert "  department_source = attribute\n" in shown.stdout
    assert "  department_separator =  > \n" in shown.stdout
    assert "  department_attribute = department\n" in shown.stdout
    with scim(tenant.tenant_url, tenant.token) as client:
        body = {
            "schemas": [USER, ENTERPRISE],
            "userName": "ann@x.example",
            ENTERPRISE: {"department": "Sales > EMEA"},
        }
        assert client.post("/Users", json=body).status_code == 201
    tree = enlist_json(portal, "lms", "department", "list", tenant.slug, "--json")
    assert names(tree[0]["children"]) == {"Sales": {"EMEA": {}}}


def test_the_prefix_rule_set_from_the_cli_places_group_members(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    changed = enlist(
        portal,
        "lms",
        "tenant",
        "set",
        tenant.slug,
        "department_source=group_names",
        "department_group_prefix=Dept:",
        "department_separator=:",
    )
    assert changed.returncode == 0, changed.stderr
    with scim(tenant.tenant_url, tenant.token) as client:
        ann = create_user(client, "ann@x.example")
        create_group(client, "Dept: Sales: APAC", [ann])
        create_group(client, "Everyone", [ann])
    tree = enlist_json(portal, "lms", "department", "list", tenant.slug, "--json")
    assert names(tree[0]["children"]) == {"Sales": {"APAC": {}}}
    assert tree[0]["children"][0]["children"][0]["user_count"] == 1


def test_set_refuses_an_unknown_department_source_naming_what_it_accepts(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    refused = enlist(portal, "lms", "tenant", "set", tenant.slug, "department_source=ldap")
    assert refused.returncode == 1
    assert "department_source must be one of none, attribute, division, group_names" in refused.stderr
