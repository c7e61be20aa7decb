"""`enlist lms department …`: the tenant's department tree, read and reshaped from the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cli import CreatedTenant, create_group, create_user, enlist, enlist_json, new_tenant, scim
from tests.live import LivePortal

NODE_KEYS = {"id", "name", "parent_id", "source_group_id", "user_count", "children"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("portal"), None).start()
    yield live
    live.stop()


@pytest.fixture
def tenant(portal: LivePortal) -> CreatedTenant:
    return new_tenant(portal)


def tree(portal: LivePortal, slug: str) -> list[dict[str, Any]]:
    return list(enlist_json(portal, "lms", "department", "list", slug, "--json"))


def names(node: dict[str, Any]) -> dict[str, Any]:
    """The tree as nested names: {"Acme": {"Sales": {"EMEA": {}}}}."""
    return {node["name"]: {k: v for child in node["children"] for k, v in names(child).items()}}


@dataclass(frozen=True)
class Shaped:
    """A tenant with Sales (holding EMEA) and Support under its root, and the tree as listed."""

    slug: str
    tree: list[dict[str, Any]]

    @property
    def root(self) -> dict[str, Any]:
        return self.tree[0]


@pytest.fixture(scope="module")
def shaped(portal: LivePortal) -> Shaped:
    slug = new_tenant(portal).slug
    for args in (["Sales"], ["EMEA", "--under", "sales"], ["Support"]):
        done = enlist(portal, "lms", "department", "create", slug, *args)
        assert done.returncode == 0, done.stderr
    return Shaped(slug, tree(portal, slug))


def test_list_of_a_new_tenant_is_its_root_department(portal: LivePortal, tenant: CreatedTenant) -> None:
    listed = tree(portal, tenant.slug)

    assert len(listed) == 1
    assert set(listed[0]) == NODE_KEYS
    assert listed[0]["name"] == tenant.slug
    assert listed[0]["parent_id"] is None
    assert listed[0]["source_group_id"] is None
    assert listed[0]["user_count"] == 0
    assert listed[0]["children"] == []


def test_list_shows_the_tree_indented_with_people_and_ids(portal: LivePortal, shaped: Shaped) -> None:
    done = enlist(portal, "lms", "department", "list", shaped.slug)

    assert done.returncode == 0, done.stderr
    sales = next(c for c in shaped.root["children"] if c["name"] == "Sales")
    assert done.stdout.splitlines() == [
        f"{shaped.slug}  (0 people)  {shaped.root['id']}",
        f"  Sales  (0 people)  {sales['id']}",
        f"    EMEA  (0 people)  {sales['children'][0]['id']}",
        f"  Support  (0 people)  {shaped.root['children'][1]['id']}",
    ]


def test_create_puts_a_department_under_the_root(portal: LivePortal, tenant: CreatedTenant) -> None:
    done = enlist(portal, "lms", "department", "create", tenant.slug, "Finance")

    assert done.returncode == 0, done.stderr
    (root,) = tree(portal, tenant.slug)
    (finance,) = root["children"]
    assert finance["name"] == "Finance"
    assert finance["parent_id"] == root["id"]
    assert finance["id"] in done.stdout


def test_create_under_nests_the_department(portal: LivePortal, shaped: Shaped) -> None:
    assert names(shaped.root) == {shaped.slug: {"Sales": {"EMEA": {}}, "Support": {}}}
    emea = next(c for c in shaped.root["children"] if c["name"] == "Sales")["children"][0]
    assert emea["parent_id"] != shaped.root["id"]


def test_move_hangs_a_department_and_its_branch_under_another(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    for args in (["Sales"], ["EMEA", "--under", "Sales"], ["Regions"]):
        assert enlist(portal, "lms", "department", "create", tenant.slug, *args).returncode == 0

    moved = enlist(portal, "lms", "department", "move", tenant.slug, "SALES", "--under", "regions")

    assert moved.returncode == 0, moved.stderr
    assert "'Sales' is now under 'Regions'" in moved.stdout
    (root,) = tree(portal, tenant.slug)
    assert names(root) == {tenant.slug: {"Regions": {"Sales": {"EMEA": {}}}}}


def test_move_takes_departments_by_id(portal: LivePortal, tenant: CreatedTenant) -> None:
    for name in ("Sales", "Regions"):
        assert enlist(portal, "lms", "department", "create", tenant.slug, name).returncode == 0
    (root,) = tree(portal, tenant.slug)
    regions, sales = root["children"]

    moved = enlist(portal, "lms", "department", "move", tenant.slug, sales["id"], "--under", regions["id"])

    assert moved.returncode == 0, moved.stderr
    assert names(tree(portal, tenant.slug)[0]) == {tenant.slug: {"Regions": {"Sales": {}}}}


def test_moving_under_a_descendant_fails_and_changes_nothing(portal: LivePortal, shaped: Shaped) -> None:
    refused = enlist(portal, "lms", "department", "move", shaped.slug, "Sales", "--under", "EMEA")

    assert refused.returncode == 1
    assert "'Sales' cannot move under 'EMEA', one of its own sub-departments" in refused.stderr
    assert tree(portal, shaped.slug) == shaped.tree


def test_moving_under_itself_fails_and_changes_nothing(portal: LivePortal, shaped: Shaped) -> None:
    refused = enlist(portal, "lms", "department", "move", shaped.slug, "Support", "--under", "Support")

    assert refused.returncode == 1
    assert "'Support' cannot move under itself" in refused.stderr
    assert tree(portal, shaped.slug) == shaped.tree


@pytest.mark.parametrize("under", ["Sales", "EMEA", "Support"])
def test_moving_the_root_fails_and_changes_nothing(portal: LivePortal, shaped: Shaped, under: str) -> None:
    refused = enlist(portal, "lms", "department", "move", shaped.slug, shaped.slug, "--under", under)

    assert refused.returncode == 1
    assert "is the root department and cannot move" in refused.stderr
    assert tree(portal, shaped.slug) == shaped.tree


def test_an_unknown_department_fails_saying_how_to_list_them(portal: LivePortal, shaped: Shaped) -> None:
    refused = enlist(portal, "lms", "department", "move", shaped.slug, "Marketing", "--under", "Sales")

    assert refused.returncode == 1
    assert "no department named or with id 'Marketing'" in refused.stderr
    assert f"enlist lms department list {shaped.slug}" in refused.stderr


def test_another_tenants_department_cannot_be_a_parent(portal: LivePortal, shaped: Shaped) -> None:
    other = new_tenant(portal)
    (other_root,) = tree(portal, other.slug)

    refused = enlist(portal, "lms", "department", "move", shaped.slug, "Support", "--under", other_root["id"])

    assert refused.returncode == 1
    assert f"no department named or with id {other_root['id']!r} in tenant {shaped.slug!r}" in refused.stderr
    assert tree(portal, shaped.slug) == shaped.tree


def test_an_ambiguous_name_fails_listing_the_ids(portal: LivePortal, tenant: CreatedTenant) -> None:
    for args in (["Sales"], ["Europe"], ["Sales", "--under", "Europe"]):
        assert enlist(portal, "lms", "department", "create", tenant.slug, *args).returncode == 0
    (root,) = tree(portal, tenant.slug)
    europe, sales = root["children"]

    refused = enlist(portal, "lms", "department", "create", tenant.slug, "Leads", "--under", "sales")

    assert refused.returncode == 1
    assert "2 departments" in refused.stderr
    assert sales["id"] in refused.stderr
    assert europe["children"][0]["id"] in refused.stderr


def test_department_commands_on_an_unknown_tenant_fail(portal: LivePortal) -> None:
    refused = enlist(portal, "lms", "department", "list", "no-such-tenant")

    assert refused.returncode == 1
    assert "enlist lms tenant create NAME" in refused.stderr


def test_a_scim_group_in_both_mode_is_a_department_under_the_root_with_its_people(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    assert enlist(portal, "lms", "tenant", "set", tenant.slug, "group_mode=both").returncode == 0
    with scim(tenant.tenant_url, tenant.token) as client:
        ada, grace, _linus = (create_user(client, n) for n in ("ada", "grace", "linus"))
        group_id = create_group(client, "Engineering", [ada, grace])

    (root,) = tree(portal, tenant.slug)

    (engineering,) = root["children"]
    assert engineering["name"] == "Engineering"
    assert engineering["source_group_id"] == group_id
    assert engineering["parent_id"] == root["id"]
    assert engineering["user_count"] == 2
    assert root["user_count"] == 1  # linus, in no group


def test_terminated_people_are_not_counted(portal: LivePortal, tenant: CreatedTenant) -> None:
    with scim(tenant.tenant_url, tenant.token) as client:
        ada, grace = (create_user(client, n) for n in ("ada", "grace"))
        create_group(client, "Engineering", [ada, grace])
        assert client.delete(f"/Users/{grace}").status_code == 204

    (root,) = tree(portal, tenant.slug)

    assert root["children"][0]["user_count"] == 1
    assert root["user_count"] == 0
