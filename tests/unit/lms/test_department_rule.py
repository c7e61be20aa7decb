"""The department tree rule's pure core (ADR 0034): which path a value names, and which
departments a set of paths needs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.lms.domain import department_rule as rule
from enlist.lms.domain.policy import PolicyError, TenantPolicy
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "separator", "path"),
    [
        ("Sales/EMEA/North", "/", ("Sales", "EMEA", "North")),
        (" Sales / EMEA ", "/", ("Sales", "EMEA")),
        ("Sales//EMEA/", "/", ("Sales", "EMEA")),
        ("Sales - North-East", " - ", ("Sales", "North-East")),
        ("", "/", ()),
        (" / ", "/", ()),
        (7, "/", ()),
        (None, "/", ()),
        (["Sales"], "/", ()),
        ("x" * 601, "/", ()),
        ("/".join(["a"] * 33), "/", ()),
        ("y" * 257, "/", ()),
    ],
)
def test_a_value_names_a_path_only_when_it_is_text_within_the_bounds(
    value: object, separator: str, path: tuple[str, ...]
) -> None:
    assert rule.split_path(value, separator) == path


def test_a_group_name_gives_a_path_only_under_the_prefix_compared_case_insensitively() -> None:
    assert rule.group_path("Dept - Sales - EMEA", "Dept - ", " - ") == ("Sales", "EMEA")
    assert rule.group_path("DEPT - Sales", "Dept - ", " - ") == ("Sales",)
    assert rule.group_path("Everyone", "Dept - ", " - ") is None


def test_division_then_department_each_one_name() -> None:
    assert rule.pair_of(f"Sales{rule.PAIR_JOINER}EMEA/North") == ("Sales", "EMEA/North")
    assert rule.pair_of(f"{rule.PAIR_JOINER}Finance") == ("Finance",)


@pytest.mark.parametrize(
    ("attribute", "where"),
    [
        ("department", (ENTERPRISE_USER_SCHEMA_ID, "department")),
        ("costCenter", (ENTERPRISE_USER_SCHEMA_ID, "costCenter")),
        ("title", ("title",)),
        ("name.formatted", ("name", "formatted")),
        ("urn:acme:2.0:User:orgPath", ("urn:acme:2.0:User", "orgPath")),
    ],
)
def test_the_attribute_is_named_as_the_sync_log_names_it(attribute: str, where: tuple[str, ...]) -> None:
    assert rule.attribute_path(attribute) == where


def test_a_hand_made_department_is_preferred_over_a_rule_made_twin_and_missing_ones_are_planned() -> None:
    existing = [
        rule.Department("rule-sales", "Sales", "root", True, T0),
        rule.Department("hand-sales", "Sales", "root", False, T0 + timedelta(days=1)),
    ]
    ids = (f"new-{n}" for n in itertools.count())
    resolved, created = rule.resolve_paths(existing, "root", [("Sales", "EMEA")], lambda: next(ids))
    assert resolved[("Sales",)] == "hand-sales"
    assert created == [rule.NewDepartment("new-0", "EMEA", "hand-sales")]


PATHS = st.lists(st.lists(st.sampled_from(["Sales", "EMEA", "APAC", "sales"]), max_size=3).map(tuple))


@given(paths=PATHS, order=st.randoms())
def test_the_departments_planned_do_not_depend_on_the_order_of_the_paths(
    paths: list[tuple[str, ...]], order: object
) -> None:
    shuffled = list(paths)
    order.shuffle(shuffled)  # type: ignore[attr-defined]

    def planned(given_paths: list[tuple[str, ...]]) -> set[tuple[str, ...]]:
        ids = (f"d{n}" for n in itertools.count())
        resolved, created = rule.resolve_paths([], "root", given_paths, lambda: next(ids))
        by_id = {d.id: d for d in created}

        def path(department_id: str) -> tuple[str, ...]:
            d = by_id[department_id]
            return (*path(d.parent_id), d.name) if d.parent_id in by_id else (d.name,)

        assert all(resolved[p] == "root" or path(resolved[p]) == p for p in given_paths)
        return {path(d.id) for d in created}

    assert planned(paths) == planned(shuffled)


def test_the_path_is_shown_below_the_root_and_the_root_by_its_name() -> None:
    assert rule.shown_path(["Contoso", "Sales", "EMEA"]) == "Sales \u203a EMEA"
    assert rule.shown_path(["Contoso"]) == "Contoso"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("department_source", "ldap", "must be one of none, attribute, division, group_names"),
        ("department_separator", "", "must not be empty"),
        ("department_attribute", "cost center", "names one attribute"),
        ("department_group_prefix", "a\nb", "without control characters"),
    ],
)
def test_a_bad_rule_setting_is_refused_naming_it(key: str, value: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        TenantPolicy().with_changes({key: value})


def test_while_a_tree_rule_is_on_groups_make_no_flat_departments() -> None:
    assert TenantPolicy().makes_departments
    ruled = TenantPolicy().with_changes({"department_source": "attribute", "department_separator": " > "})
    assert not ruled.makes_departments
    assert ruled.department_separator == " > "
