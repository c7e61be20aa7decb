"""Specification of `attributes=` / `excludedAttributes=` projection (RFC 7644 §3.4.2.5)."""

from __future__ import annotations

import copy
from typing import Any

from enlist.scim.filter import parse_attribute_list
from enlist.scim.projection import project

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"

USER: dict[str, Any] = {
    "schemas": [USER_SCHEMA, ENTERPRISE],
    "id": "2819c223",
    "externalId": "jdoe",
    "meta": {
        "resourceType": "User",
        "created": "2024-01-01T00:00:00Z",
        "lastModified": "2024-02-01T00:00:00Z",
    },
    "userName": "jdoe@contoso.com",
    "name": {"givenName": "John", "familyName": "Doe"},
    "active": True,
    "password": "s3cret",
    "emails": [
        {"type": "work", "value": "jdoe@contoso.com", "primary": True},
        {"type": "home", "value": "j@home"},
    ],
    ENTERPRISE: {"employeeNumber": "1234", "manager": {"value": "m1", "$ref": "https://x/Users/m1"}},
    CUSTOM: {"CostCentre": "CC-1"},
}
GROUP: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "id": "8c601452",
    "externalId": "0db508eb",
    "meta": {"resourceType": "Group"},
    "displayName": "Engineering",
    "members": [{"value": "u1", "$ref": "https://x/Users/u1", "type": "User"}],
}


def user(attributes: str | None = None, excluded: str | None = None) -> dict[str, Any]:
    return project(
        USER,
        "User",
        parse_attribute_list(attributes) if attributes is not None else None,
        parse_attribute_list(excluded) if excluded is not None else None,
    )


def test_without_parameters_everything_but_the_password_is_returned() -> None:
    assert user() == {k: v for k, v in USER.items() if k != "password"}


def test_password_is_never_returned_even_when_asked_for() -> None:
    assert "password" not in user("password,userName")
    assert "password" not in user(excluded="userName")


def test_attributes_keeps_only_the_named_ones_plus_id_and_schemas() -> None:
    assert user("userName") == {"schemas": USER["schemas"], "id": "2819c223", "userName": "jdoe@contoso.com"}


def test_attributes_id_gives_just_the_id_for_entra_reference_checks() -> None:
    assert user("id") == {"schemas": USER["schemas"], "id": "2819c223"}


def test_sub_attribute_path_keeps_the_parent_with_only_that_sub_attribute() -> None:
    assert user("name.givenName")["name"] == {"givenName": "John"}


def test_multi_valued_sub_attribute_path_keeps_each_element_with_only_that_sub_attribute() -> None:
    assert user("emails.value")["emails"] == [{"value": "jdoe@contoso.com"}, {"value": "j@home"}]


def test_two_sub_attributes_of_the_same_attribute_are_both_kept() -> None:
    assert user("emails.value,emails.type")["emails"] == [
        {"type": "work", "value": "jdoe@contoso.com"},
        {"type": "home", "value": "j@home"},
    ]


def test_whole_attribute_and_its_sub_attribute_keep_the_whole() -> None:
    assert user("name.givenName,name")["name"] == USER["name"]


def test_urn_qualified_extension_attribute_is_kept_under_its_extension() -> None:
    assert user(f"{ENTERPRISE}:manager")[ENTERPRISE] == {"manager": USER[ENTERPRISE]["manager"]}


def test_unqualified_extension_attribute_is_found_under_its_extension() -> None:
    assert user("employeeNumber")[ENTERPRISE] == {"employeeNumber": "1234"}


def test_bare_extension_urn_keeps_the_whole_extension_object() -> None:
    assert user(ENTERPRISE)[ENTERPRISE] == USER[ENTERPRISE]


def test_urn_qualified_core_attribute_is_found_at_the_top_level() -> None:
    assert user(f"{USER_SCHEMA}:userName")["userName"] == "jdoe@contoso.com"


def test_custom_extension_attribute_can_be_asked_for() -> None:
    assert user(f"{CUSTOM}:CostCentre")[CUSTOM] == {"CostCentre": "CC-1"}


def test_unknown_names_are_ignored() -> None:
    assert user("shoeSize,name.nickname,urn:x:y:z") == {"schemas": USER["schemas"], "id": "2819c223"}


def test_names_are_case_insensitive() -> None:
    projected = user("USERNAME,Name.GivenName,EMPLOYEENUMBER")
    assert projected["userName"] == "jdoe@contoso.com"
    assert projected["name"] == {"givenName": "John"}
    assert projected[ENTERPRISE] == {"employeeNumber": "1234"}


def test_meta_is_returned_only_when_asked_for_and_by_sub_attribute() -> None:
    assert "meta" not in user("userName")
    assert user("meta.lastModified")["meta"] == {"lastModified": "2024-02-01T00:00:00Z"}


def test_excluded_attributes_drops_the_named_ones() -> None:
    projected = user(excluded="emails,name")
    assert "emails" not in projected
    assert "name" not in projected
    assert projected["userName"] == "jdoe@contoso.com"


def test_excluded_attributes_never_drops_id_or_schemas() -> None:
    projected = user(excluded="id,schemas,userName")
    assert (projected["id"], projected["schemas"]) == ("2819c223", USER["schemas"])
    assert "userName" not in projected


def test_excluded_sub_attribute_drops_only_that_sub_attribute() -> None:
    assert user(excluded="emails.primary")["emails"] == [
        {"type": "work", "value": "jdoe@contoso.com"},
        {"type": "home", "value": "j@home"},
    ]
    assert user(excluded=f"{ENTERPRISE}:manager.$ref")[ENTERPRISE] == {
        "employeeNumber": "1234",
        "manager": {"value": "m1"},
    }


def test_excluding_the_last_attribute_of_an_extension_drops_the_extension() -> None:
    assert CUSTOM not in user(excluded=f"{CUSTOM}:costcentre")


def test_excluded_sub_attribute_of_a_simple_attribute_keeps_the_attribute() -> None:
    assert user(excluded="userName.value")["userName"] == "jdoe@contoso.com"


def test_excluded_members_on_groups_is_what_entra_asks_on_every_group_read() -> None:
    assert project(GROUP, "Group", None, parse_attribute_list("members")) == {
        k: v for k, v in GROUP.items() if k != "members"
    }


def test_group_members_are_returned_when_asked_for() -> None:
    assert project(GROUP, "Group", parse_attribute_list("members.value"), None) == {
        "schemas": GROUP["schemas"],
        "id": "8c601452",
        "members": [{"value": "u1"}],
    }


def test_attributes_and_excluded_together_apply_both() -> None:
    assert user("name,emails", "name.familyName") == {
        "schemas": USER["schemas"],
        "id": "2819c223",
        "name": {"givenName": "John"},
        "emails": USER["emails"],
    }


def test_projection_returns_a_copy_and_leaves_its_input_alone() -> None:
    before = copy.deepcopy(USER)
    for projected in (user(), user("name,emails"), user(excluded="emails.type")):
        projected["schemas"].append("x")
        projected.get("name", {}).clear()
    assert before == USER


def test_empty_attributes_list_means_no_selection() -> None:
    assert project(USER, "User", [], None) == user()
