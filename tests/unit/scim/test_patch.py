"""Specification of PATCH parsing and application, replaying every Entra shape in both dialects.

Shapes come from entra-scim.md §2.5 (user updates), §2.7 (manager), §3.4/§3.5 (groups) and the
§7.1 quirk list; "default" is Entra's default dialect, "flag" its `aadOptscim062020` one.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.scim.errors import ScimError
from enlist.scim.filter_ast import AttrPath, Compare, PatchPath
from enlist.scim.patch import (
    MemberChanges,
    PatchOperation,
    apply_group_patch,
    apply_user_patch,
    parse_patch,
)
from enlist.scim.resource import parse_user

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

USER: dict[str, Any] = {
    "externalId": "jdoe",
    "userName": "jdoe@contoso.com",
    "active": True,
    "displayName": "John Doe",
    "emails": [{"primary": True, "type": "work", "value": "jdoe@contoso.com"}],
    "name": {"formatted": "John Doe", "givenName": "John", "familyName": "Doe"},
    "phoneNumbers": [{"type": "work", "value": "+1 425 555 0100"}],
    ENTERPRISE: {"employeeNumber": "1234", "department": "R&D"},
}
GROUP: dict[str, Any] = {"externalId": "8aa1a0c0", "displayName": "Engineering"}


def body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def patch_user(*operations: dict[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_user_patch(USER if doc is None else doc, parse_patch(body(*operations)))


def patch_group(*operations: dict[str, Any]) -> tuple[dict[str, Any], MemberChanges]:
    return apply_group_patch(GROUP, parse_patch(body(*operations)))


def changed(**changes: Any) -> dict[str, Any]:
    """USER with top-level `changes` (None deletes)."""
    doc = copy.deepcopy(USER)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def error_of(exc: pytest.ExceptionInfo[ScimError], scim_type: str) -> str:
    assert exc.value.status == 400
    assert exc.value.scim_type == scim_type
    return exc.value.detail


# --- parse_patch ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "op"), [("Add", "add"), ("Replace", "replace"), ("REMOVE", "remove"), ("add", "add")]
)
def test_op_is_case_insensitive(sent: str, op: str) -> None:
    [operation] = parse_patch(body({"op": sent, "path": "nickName", "value": "Babs"}))
    assert operation.op == op


def test_operations_and_member_keys_are_case_insensitive_and_schemas_may_be_missing() -> None:
    ops = parse_patch({"operations": [{"OP": "Replace", "Path": "displayName", "VALUE": "x"}]})
    assert ops == [PatchOperation("replace", PatchPath(AttrPath(None, "displayName")), "x")]


def test_filtered_path_is_parsed_into_a_patch_path() -> None:
    [operation] = parse_patch(body({"op": "Replace", "path": 'emails[type eq "work"].value', "value": "x"}))
    assert operation.path == PatchPath(
        AttrPath(None, "emails"), Compare(AttrPath(None, "type"), "eq", "work"), "value"
    )


@pytest.mark.parametrize(
    "patch_body",
    [None, [], "Operations", {}, {"Operations": []}, {"Operations": {}}, {"Operations": "x"}],
)
def test_a_body_without_a_list_of_operations_is_invalid_syntax(patch_body: object) -> None:
    with pytest.raises(ScimError) as exc:
        parse_patch(patch_body)
    error_of(exc, "invalidSyntax")


def test_more_than_fifty_thousand_operations_are_refused() -> None:
    with pytest.raises(ScimError) as exc:
        parse_patch(body(*[{"op": "add", "path": "nickName", "value": "x"}] * 50_001))
    assert "50000" in error_of(exc, "invalidSyntax")


def test_a_members_value_may_list_fifty_thousand_but_other_lists_a_thousand() -> None:
    members = [{"value": f"u{i}"} for i in range(50_000)]
    for operation in (
        {"op": "replace", "path": "members", "value": members},
        {"op": "add", "value": {"members": members}},
    ):
        assert len(parse_patch(body(operation))) == 1
    with pytest.raises(ScimError) as exc:
        parse_patch(body({"op": "add", "path": "emails", "value": [{"value": "e"}] * 1_001}))
    assert "1000" in error_of(exc, "invalidValue")


@pytest.mark.parametrize("operation", [{"op": "move", "path": "a"}, {"path": "a"}, {"op": 1}, "add"])
def test_an_operation_that_is_not_add_replace_or_remove_is_invalid_syntax(operation: object) -> None:
    with pytest.raises(ScimError) as exc:
        parse_patch({"Operations": [operation]})
    assert "Operations[0]" in error_of(exc, "invalidSyntax")


def test_a_path_that_does_not_parse_is_invalid_path_with_the_parser_message() -> None:
    with pytest.raises(ScimError) as exc:
        parse_patch(body({"op": "replace", "path": 'emails[type eq "work"', "value": "x"}))
    assert "at character" in error_of(exc, "invalidPath")


def test_remove_without_path_is_invalid_path() -> None:
    with pytest.raises(ScimError) as exc:
        parse_patch(body({"op": "Remove", "value": [{"value": "x"}]}))
    error_of(exc, "invalidPath")


@pytest.mark.parametrize("value", ["x", None, ["a"]])
def test_pathless_add_needs_an_object_value(value: object) -> None:
    with pytest.raises(ScimError) as exc:
        parse_patch(body({"op": "add", "value": value}))
    error_of(exc, "invalidValue")


def test_empty_path_is_treated_as_no_path() -> None:
    assert parse_patch(body({"op": "add", "path": "", "value": {"nickName": "B"}})) == [
        PatchOperation("add", PatchPath(AttrPath(None, "nickName")), "B", pathless=True)
    ]


def test_pathless_replace_with_dotted_and_urn_keys_expands_to_one_operation_per_key() -> None:
    ops = parse_patch(
        body(
            {
                "op": "replace",
                "value": {
                    "displayName": "Bjfe",
                    "name.givenName": "Kkom",
                    f"{ENTERPRISE}:employeeNumber": "Aklq",
                },
            }
        )
    )
    assert ops == [
        PatchOperation("replace", PatchPath(AttrPath(None, "displayName")), "Bjfe", pathless=True),
        PatchOperation("replace", PatchPath(AttrPath(None, "name", "givenName")), "Kkom", pathless=True),
        PatchOperation("replace", PatchPath(AttrPath(ENTERPRISE, "employeeNumber")), "Aklq", pathless=True),
    ]


def test_pathless_value_with_a_bare_extension_urn_expands_per_attribute_inside() -> None:
    ops = parse_patch(
        body({"op": "add", "value": {ENTERPRISE: {"department": "R&D", "manager": "m1"}, "schemas": []}})
    )
    assert ops == [
        PatchOperation("add", PatchPath(AttrPath(ENTERPRISE, "department")), "R&D", pathless=True),
        PatchOperation("add", PatchPath(AttrPath(ENTERPRISE, "manager")), "m1", pathless=True),
    ]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
op_names = st.sampled_from(["add", "Add", "replace", "Replace", "remove", "Remove", "move"])
path_texts = st.sampled_from(
    [
        "",
        "displayName",
        "name.givenName",
        'emails[type eq "work"].value',
        "emails[type eq",
        "members",
        'members[value eq "a"]',
        ENTERPRISE,
        f"{ENTERPRISE}:manager",
        "urn:",
        "a..b",
    ]
) | st.text(max_size=20)
operations = (
    st.fixed_dictionaries({"op": op_names}, optional={"path": path_texts | json_values, "value": json_values})
    | json_values
)


@given(json_values)
def test_parse_patch_on_arbitrary_json_raises_only_scim_errors(patch_body: object) -> None:
    with contextlib.suppress(ScimError):
        parse_patch(patch_body)


@given(st.lists(operations, max_size=5))
def test_parse_patch_on_arbitrary_operations_raises_only_scim_errors(ops: list[Any]) -> None:
    with contextlib.suppress(ScimError):
        parse_patch(body(*ops))


# --- User updates, default dialect (§2.5.1) ------------------------------------------------------


def test_replace_work_email_value_and_family_name() -> None:
    result = patch_user(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    )
    assert result == changed(
        emails=[{"primary": True, "type": "work", "value": "updatedEmail@microsoft.com"}],
        name={"formatted": "John Doe", "givenName": "John", "familyName": "updatedFamilyName"},
    )


def test_replace_multiple_attributes_one_operation_each() -> None:
    result = patch_user(
        {"op": "Replace", "path": "displayName", "value": "Pvlo"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "TestBcwqnm@test.microsoft.com"},
        {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
        {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
        {"op": "Replace", "path": "externalId", "value": "Eqpj"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
    )
    assert result == changed(
        displayName="Pvlo",
        emails=[{"primary": True, "type": "work", "value": "TestBcwqnm@test.microsoft.com"}],
        name={"formatted": "John Doe", "givenName": "Gtfd", "familyName": "Pkqf"},
        externalId="Eqpj",
        **{ENTERPRISE: {"employeeNumber": "Eqpj", "department": "R&D"}},
    )


def test_replace_user_name_renames_the_user() -> None:
    assert patch_user({"op": "Replace", "path": "userName", "value": "5b50642d@testuser.com"}) == changed(
        userName="5b50642d@testuser.com"
    )


def test_add_single_valued_string_attribute() -> None:
    assert patch_user({"op": "Add", "path": "nickName", "value": "Babs"}) == changed(nickName="Babs")


@pytest.mark.parametrize("op", ["Add", "Replace", "add", "replace"])
def test_add_and_replace_on_a_single_valued_attribute_are_the_same(op: str) -> None:
    assert patch_user({"op": op, "path": "displayName", "value": "New"}) == changed(displayName="New")


def test_add_on_filtered_path_creates_missing_work_email() -> None:
    doc = changed(emails=None)
    result = patch_user(
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "new@contoso.com"}, doc=doc
    )
    assert result["emails"] == [{"type": "work", "value": "new@contoso.com"}]


def test_replace_on_filtered_path_that_matches_nothing_creates_the_element() -> None:
    result = patch_user(
        {"op": "Replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "55555555555"}
    )
    assert result["phoneNumbers"] == [
        {"type": "work", "value": "+1 425 555 0100"},
        {"type": "mobile", "value": "55555555555"},
    ]


def test_add_on_filtered_path_that_matches_updates_without_duplicating() -> None:
    result = patch_user({"op": "Add", "path": 'emails[type eq "work"].value', "value": "other@contoso.com"})
    assert result["emails"] == [{"primary": True, "type": "work", "value": "other@contoso.com"}]


def test_filtered_add_creates_element_from_every_eq_term() -> None:
    result = patch_user(
        {"op": "add", "path": 'addresses[type eq "work" and primary eq true].locality', "value": "Redmond"}
    )
    assert result["addresses"] == [{"type": "work", "primary": True, "locality": "Redmond"}]


def test_filtered_add_with_a_filter_that_cannot_describe_an_element_is_no_target() -> None:
    with pytest.raises(ScimError) as exc:
        patch_user({"op": "add", "path": 'emails[type ne "work"].value', "value": "x@y"})
    error_of(exc, "noTarget")


def test_filtered_replace_without_sub_attribute_replaces_the_matched_element() -> None:
    result = patch_user({"op": "replace", "path": 'emails[type eq "work"]', "value": {"value": "n@c"}})
    assert result["emails"] == [{"type": "work", "value": "n@c"}]


# --- Booleans (§2.5.2, Q2) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "replace", "path": "active", "value": False},
        {"op": "Replace", "path": "active", "value": "false"},
        {"op": "replace", "value": {"active": False}},
    ],
    ids=["default", "flag", "lowercase string", "pathless"],
)
def test_false_string_disables_user(operation: dict[str, Any]) -> None:
    assert patch_user(operation) == changed(active=False)


@pytest.mark.parametrize("value", ["True", True, "true"])
def test_true_re_enables_user(value: object) -> None:
    assert patch_user({"op": "Replace", "path": "active", "value": value}, doc=changed(active=False)) == USER


def test_active_that_is_not_a_boolean_is_an_invalid_value_naming_it() -> None:
    with pytest.raises(ScimError) as exc:
        patch_user({"op": "Replace", "path": "active", "value": "no"})
    assert "active" in error_of(exc, "invalidValue")


# --- User updates, aadOptscim062020 dialect (§2.5.3, Q4) --------------------------------------------


def test_flag_dialect_pathless_replace_with_dotted_and_urn_keys() -> None:
    result = patch_user(
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "TestMhvaes@test.microsoft.com"},
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENTERPRISE}:employeeNumber": "Aklq",
            },
        },
    )
    assert result == changed(
        displayName="Bjfe",
        emails=[{"primary": True, "type": "work", "value": "TestMhvaes@test.microsoft.com"}],
        name={"formatted": "John Doe", "givenName": "Kkom", "familyName": "Unua"},
        **{ENTERPRISE: {"employeeNumber": "Aklq", "department": "R&D"}},
    )


def test_pathless_replace_of_a_complex_attribute_merges_its_sub_attributes() -> None:
    result = patch_user({"op": "replace", "value": {"name": {"givenName": "Jane"}}})
    assert result["name"] == {"formatted": "John Doe", "givenName": "Jane", "familyName": "Doe"}


def test_pathless_add_with_extension_object() -> None:
    result = patch_user({"op": "add", "value": {ENTERPRISE: {"costCenter": "42"}}})
    assert result[ENTERPRISE] == {"employeeNumber": "1234", "department": "R&D", "costCenter": "42"}


def test_attribute_paths_are_case_insensitive() -> None:
    result = patch_user(
        {"op": "Replace", "path": "name.FamilyName", "value": "X"},
        {"op": "Replace", "path": "DisplayName", "value": "Y"},
        {"op": "Replace", "path": f"{ENTERPRISE.upper()}:EMPLOYEENUMBER", "value": "Z"},
    )
    assert (result["name"]["familyName"], result["displayName"], result[ENTERPRISE]["employeeNumber"]) == (
        "X",
        "Y",
        "Z",
    )


# --- Clearing (§2.5.4) -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", None])
def test_replace_with_empty_or_null_clears_the_attribute(value: object) -> None:
    assert patch_user({"op": "Replace", "path": "displayName", "value": value}) == changed(displayName=None)


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": ""},
        {"op": "remove", "path": 'emails[type eq "work"].value'},
    ],
    ids=["replace empty", "remove"],
)
def test_clearing_the_value_of_a_filtered_element_drops_the_element(operation: dict[str, Any]) -> None:
    assert patch_user(operation) == changed(emails=None)


def test_remove_on_a_plain_path_clears_it() -> None:
    assert patch_user({"op": "Remove", "path": "phoneNumbers"}) == changed(phoneNumbers=None)


def test_remove_of_a_sub_attribute_keeps_the_others() -> None:
    result = patch_user({"op": "remove", "path": "name.formatted"})
    assert result["name"] == {"givenName": "John", "familyName": "Doe"}


def test_remove_on_filtered_path_removes_matching_elements() -> None:
    doc = changed(phoneNumbers=[{"type": "work", "value": "1"}, {"type": "mobile", "value": "2"}])
    result = patch_user({"op": "remove", "path": 'phoneNumbers[type eq "mobile"]'}, doc=doc)
    assert result["phoneNumbers"] == [{"type": "work", "value": "1"}]


def test_remove_on_filtered_path_with_sub_attribute_removes_only_that_sub_attribute() -> None:
    result = patch_user({"op": "remove", "path": 'emails[type eq "work"].primary'})
    assert result["emails"] == [{"type": "work", "value": "jdoe@contoso.com"}]


def test_remove_on_filtered_path_that_matches_nothing_changes_nothing() -> None:
    assert patch_user({"op": "remove", "path": 'emails[type eq "home"]'}) == USER


def test_remove_with_a_value_list_on_a_multi_valued_attribute_removes_only_those_items() -> None:
    doc = changed(emails=[{"type": "work", "value": "a@c"}, {"type": "home", "value": "b@c"}])
    result = patch_user({"op": "Remove", "path": "emails", "value": [{"value": "b@c"}]}, doc=doc)
    assert result["emails"] == [{"type": "work", "value": "a@c"}]


def test_removing_the_user_name_is_an_invalid_value() -> None:
    with pytest.raises(ScimError) as exc:
        patch_user({"op": "remove", "path": "userName"})
    assert "userName" in error_of(exc, "invalidValue")


# --- Multi-valued attributes ---------------------------------------------------------------------


def test_add_on_a_multi_valued_attribute_appends_without_duplicates() -> None:
    result = patch_user(
        {
            "op": "add",
            "path": "emails",
            "value": [
                {"type": "work", "value": "jdoe@contoso.com", "primary": "True"},
                {"type": "home", "value": "h@c"},
            ],
        }
    )
    assert result["emails"] == [
        {"primary": True, "type": "work", "value": "jdoe@contoso.com"},
        {"type": "home", "value": "h@c"},
    ]


def test_replace_on_a_multi_valued_attribute_replaces_the_list() -> None:
    result = patch_user({"op": "replace", "path": "emails", "value": [{"type": "home", "value": "h@c"}]})
    assert result["emails"] == [{"type": "home", "value": "h@c"}]


def test_pathless_add_of_a_single_object_to_a_multi_valued_attribute_appends_it() -> None:
    result = patch_user({"op": "add", "value": {"phoneNumbers": {"type": "fax", "value": "3"}}})
    assert result["phoneNumbers"] == [
        {"type": "work", "value": "+1 425 555 0100"},
        {"type": "fax", "value": "3"},
    ]


# --- Manager (§2.7, Q7, Q8) -------------------------------------------------------------------------


MANAGER_ID = "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"


@pytest.mark.parametrize(
    "operation",
    [
        {
            "op": "Add",
            "path": "manager",
            "value": [{"$ref": f"http://x/scim/Users/{MANAGER_ID}", "value": MANAGER_ID}],
        },
        {"op": "add", "path": f"{ENTERPRISE}:manager", "value": MANAGER_ID},
        {"op": "Replace", "path": "manager", "value": {"value": MANAGER_ID}},
        {"op": "replace", "path": "manager.value", "value": MANAGER_ID},
        {"op": "replace", "value": {f"{ENTERPRISE}:manager": MANAGER_ID}},
        {"op": "add", "value": {ENTERPRISE: {"manager": {"value": MANAGER_ID, "$ref": None}}}},
    ],
    ids=[
        "legacy list",
        "urn path bare string",
        "value object",
        "manager.value",
        "flag pathless",
        "extension object",
    ],
)
def test_manager_in_every_shape_is_stored_as_a_value_object(operation: dict[str, Any]) -> None:
    assert patch_user(operation)[ENTERPRISE]["manager"] == {"value": MANAGER_ID}


def test_new_manager_replaces_the_old_one_whole() -> None:
    doc = changed(**{ENTERPRISE: {"manager": {"value": "old", "displayName": "Old Boss"}}})
    assert patch_user({"op": "replace", "path": "manager", "value": "new"}, doc=doc)[ENTERPRISE] == {
        "manager": {"value": "new"}
    }


WITH_MANAGER = {**USER, ENTERPRISE: {**USER[ENTERPRISE], "manager": {"value": MANAGER_ID}}}


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": f'manager[value eq "{MANAGER_ID}"]'},
        {"op": "Remove", "path": f'{ENTERPRISE}:manager[value eq "{MANAGER_ID}"]'},
        {"op": "Remove", "path": "manager"},
        {"op": "Replace", "path": "manager", "value": ""},
        {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": None},
        {"op": "replace", "path": "manager", "value": {"value": ""}},
    ],
    ids=[
        "remove filter",
        "remove urn filter",
        "remove",
        "replace empty",
        "replace null",
        "replace empty value",
    ],
)
def test_manager_removal_in_every_shape(operation: dict[str, Any]) -> None:
    assert patch_user(operation, doc=WITH_MANAGER) == USER


def test_manager_removal_with_another_id_keeps_the_manager() -> None:
    assert (
        patch_user({"op": "remove", "path": 'manager[value eq "someone-else"]'}, doc=WITH_MANAGER)
        == WITH_MANAGER
    )


def test_manager_display_name_is_read_only_in_patch() -> None:
    with pytest.raises(ScimError) as exc:
        patch_user({"op": "replace", "path": "manager.displayName", "value": "Boss"}, doc=WITH_MANAGER)
    error_of(exc, "mutability")


# --- Roles (Q9) -----------------------------------------------------------------------------------


def test_roles_add_with_stringified_json_value_stores_the_role_object() -> None:
    value = [{"value": '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}'}]
    assert patch_user({"op": "Add", "path": "roles", "value": value})["roles"] == [
        {"value": "25", "display": "Role1234"}
    ]


def test_roles_replace_in_the_flag_dialect_replaces_the_list() -> None:
    roles = [
        {"primary": True, "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}
    ]
    doc = changed(roles=[{"value": "old"}])
    assert patch_user({"op": "replace", "path": "roles", "value": roles}, doc=doc)["roles"] == roles


# --- Errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "id", "value": "x"},
        {"op": "replace", "path": "meta.lastModified", "value": "2024-01-01T00:00:00Z"},
        {"op": "remove", "path": "meta"},
        {"op": "add", "path": "groups", "value": [{"value": "g"}]},
        {"op": "replace", "value": {"id": "x"}},
    ],
    ids=["id", "meta sub", "meta", "groups", "pathless id"],
)
def test_changing_read_only_attributes_is_a_mutability_error(operation: dict[str, Any]) -> None:
    with pytest.raises(ScimError) as exc:
        patch_user(operation)
    error_of(exc, "mutability")


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("shoeSize", "shoeSize"),
        ("name.nick", "name.nick"),
        (f"{ENTERPRISE}:shoeSize", "shoeSize"),
        ('emails[type eq "work"].colour', "colour"),
        ("urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "displayName"),
    ],
)
def test_unknown_attribute_path_is_invalid_path_naming_it(path: str, named: str) -> None:
    with pytest.raises(ScimError) as exc:
        patch_user({"op": "replace", "path": path, "value": "x"})
    assert named in error_of(exc, "invalidPath")


def test_wrong_type_in_the_result_is_an_invalid_value_naming_the_attribute() -> None:
    with pytest.raises(ScimError) as exc:
        patch_user({"op": "replace", "path": "name.givenName", "value": 5})
    assert "name.givenName must be a string" in error_of(exc, "invalidValue")


def test_custom_extension_urn_path_is_stored_under_its_urn_key() -> None:
    result = patch_user({"op": "add", "path": f"{CUSTOM}:CostCentre", "value": "CC-1"})
    assert result[CUSTOM] == {"CostCentre": "CC-1"}
    assert patch_user({"op": "remove", "path": f"{CUSTOM}:costcentre"}, doc=result) == USER


def test_removing_a_whole_extension_by_its_urn() -> None:
    assert patch_user({"op": "remove", "path": ENTERPRISE}) == changed(**{ENTERPRISE: None})


def test_apply_user_patch_never_mutates_its_input() -> None:
    doc = copy.deepcopy(WITH_MANAGER)
    patch_user(
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "x@y"},
        {"op": "remove", "path": "manager"},
        {"op": "replace", "path": "name.givenName", "value": "Z"},
        doc=doc,
    )
    assert doc == WITH_MANAGER


# --- Property: a PATCH result is a document parse_user accepts unchanged ---------------------------

patch_paths = st.sampled_from(
    [
        None,
        "userName",
        "displayName",
        "nickName",
        "active",
        "name",
        "name.givenName",
        "emails",
        'emails[type eq "work"].value',
        'emails[type eq "work"]',
        "emails[primary eq true].value",
        'phoneNumbers[type eq "mobile"].value',
        'addresses[type eq "work"].locality',
        "roles",
        "manager",
        "manager.value",
        'manager[value eq "m"]',
        f"{ENTERPRISE}:manager",
        f"{ENTERPRISE}:employeeNumber",
        ENTERPRISE,
        f"{CUSTOM}:shoe",
        CUSTOM,
        "externalId",
        "x509Certificates",
        "emails.value",
    ]
)
patch_values = st.recursive(
    st.none()
    | st.booleans()
    | st.sampled_from(["", "m", "True", "work", '{"value":"r"}'])
    | st.integers(-2, 2),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["value", "type", "primary", "givenName", "manager", "$ref", "display"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=8,
)
patch_ops = st.builds(
    lambda op, path, value: {"op": op, "value": value, **({} if path is None else {"path": path})},
    st.sampled_from(["add", "replace", "remove"]),
    patch_paths,
    patch_values,
)


@given(st.lists(patch_ops, min_size=1, max_size=5))
def test_apply_user_patch_result_reparses_unchanged(ops: list[dict[str, Any]]) -> None:
    try:
        result = patch_user(*ops, doc=WITH_MANAGER)
    except ScimError:
        return
    assert parse_user(result) == result


# --- Groups (§3.4, §3.5, Q3) ------------------------------------------------------------------------


def test_add_members_documented_shape() -> None:
    group, members = patch_group(
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}]}
    )
    assert group == GROUP
    assert members == MemberChanges(add=("f648f8d5ea4e4cd38e9c",))


def test_remove_with_value_list_removes_only_listed_members() -> None:
    _, members = patch_group(
        {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}]}
    )
    assert members == MemberChanges(remove=("f648f8d5ea4e4cd38e9c",))
    assert not members.remove_all


def test_remove_with_filter_path_removes_that_member_in_the_flag_dialect() -> None:
    _, members = patch_group(
        {"op": "remove", "path": 'members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]'}
    )
    assert members == MemberChanges(remove=("7f4bc1a3-285e-48ae-8202-5accb43efb0e",))


def test_remove_with_or_filter_removes_each_member() -> None:
    _, members = patch_group({"op": "remove", "path": 'members[value eq "a" or value eq "b"]'})
    assert members == MemberChanges(remove=("a", "b"))


def test_remove_members_without_value_removes_all() -> None:
    assert patch_group({"op": "remove", "path": "members"})[1] == MemberChanges(remove_all=True)


def test_replace_members_with_a_list_replaces_the_set() -> None:
    _, members = patch_group(
        {"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}, {"value": "a"}]}
    )
    assert members == MemberChanges(replace=("a", "b"))


def test_replace_members_with_an_empty_list_removes_all() -> None:
    assert patch_group({"op": "replace", "path": "members", "value": []})[1] == MemberChanges(remove_all=True)


def test_remove_all_then_add_is_a_replace() -> None:
    _, members = patch_group(
        {"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": [{"value": "x"}]}
    )
    assert members == MemberChanges(replace=("x",))


def test_add_then_remove_of_the_same_member_nets_to_a_removal() -> None:
    _, members = patch_group(
        {"op": "add", "path": "members", "value": [{"value": "x"}, {"value": "y"}]},
        {"op": "Remove", "path": "members", "value": [{"value": "x"}]},
    )
    assert members == MemberChanges(add=("y",), remove=("x",))


@pytest.mark.parametrize(
    "value",
    ["string id 1", ["string id 1"], {"value": "string id 1"}],
    ids=["bare string", "list of strings", "single object"],
)
def test_microsoft_collection_member_shapes(value: object) -> None:
    assert patch_group({"op": "add", "path": "members", "value": value})[1] == MemberChanges(
        add=("string id 1",)
    )


def test_pathless_add_with_members_object() -> None:
    _, members = patch_group({"op": "add", "value": {"members": [{"value": "a"}, {"value": "b"}]}})
    assert members == MemberChanges(add=("a", "b"))


def test_many_members_in_one_operation_and_many_operations_in_one_request() -> None:
    _, members = patch_group(
        {"op": "Add", "path": "members", "value": [{"value": f"u{i}"} for i in range(50)]},
        *[{"op": "Remove", "path": "members", "value": [{"value": f"u{i}"}]} for i in range(0, 50, 2)],
    )
    assert members == MemberChanges(
        add=tuple(f"u{i}" for i in range(1, 50, 2)), remove=tuple(f"u{i}" for i in range(0, 50, 2))
    )


def test_group_rename_changes_display_name_and_leaves_members_alone() -> None:
    group, members = patch_group(
        {"op": "Replace", "path": "displayName", "value": "1879db59-updatedDisplayName"}
    )
    assert group == {"externalId": "8aa1a0c0", "displayName": "1879db59-updatedDisplayName"}
    assert members.is_empty


def test_group_pathless_replace_of_display_name_and_external_id() -> None:
    group, _ = patch_group({"op": "replace", "value": {"displayName": "New", "externalId": "e2"}})
    assert group == {"externalId": "e2", "displayName": "New"}


@pytest.mark.parametrize("value", ["", None])
def test_group_display_name_cannot_be_emptied(value: object) -> None:
    with pytest.raises(ScimError) as exc:
        patch_group({"op": "replace", "path": "displayName", "value": value})
    assert "displayName" in error_of(exc, "invalidValue")


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "add", "path": 'members[value eq "a"]', "value": [{"value": "a"}]},
        {"op": "remove", "path": 'members[display eq "A"]'},
        {"op": "remove", "path": "members.value"},
        {"op": "replace", "path": "userName", "value": "x"},
    ],
    ids=["filtered add", "filter on display", "sub-attribute", "user attribute"],
)
def test_group_paths_that_cannot_be_applied_are_invalid_path(operation: dict[str, Any]) -> None:
    with pytest.raises(ScimError) as exc:
        patch_group(operation)
    error_of(exc, "invalidPath")


def test_group_member_without_an_id_is_an_invalid_value() -> None:
    with pytest.raises(ScimError) as exc:
        patch_group({"op": "add", "path": "members", "value": [{"display": "no id"}]})
    error_of(exc, "invalidValue")


def test_group_id_is_read_only() -> None:
    with pytest.raises(ScimError) as exc:
        patch_group({"op": "replace", "path": "id", "value": "x"})
    error_of(exc, "mutability")


def test_apply_group_patch_never_mutates_its_input_and_never_returns_members() -> None:
    doc = {**GROUP, "members": [{"value": "a"}]}
    before = copy.deepcopy(doc)
    group, _ = apply_group_patch(
        doc, parse_patch(body({"op": "replace", "path": "displayName", "value": "N"}))
    )
    assert doc == before
    assert "members" not in group


def test_member_changes_apply_to_a_materialised_list() -> None:
    assert MemberChanges(add=("c", "a"), remove=("b",)).apply_to(["a", "b"]) == ["a", "c"]
    assert MemberChanges(remove_all=True).apply_to(["a"]) == []
    assert MemberChanges(replace=("z",)).apply_to(["a"]) == ["z"]


member_ids = st.sampled_from(["a", "b", "c", "d"])
member_ops = st.one_of(
    st.builds(
        lambda ids: {"op": "add", "path": "members", "value": [{"value": i} for i in ids]},
        st.lists(member_ids),
    ),
    st.builds(
        lambda ids: {"op": "Remove", "path": "members", "value": [{"value": i} for i in ids]},
        st.lists(member_ids),
    ),
    st.builds(lambda i: {"op": "remove", "path": f'members[value eq "{i}"]'}, member_ids),
    st.builds(lambda ids: {"op": "replace", "path": "members", "value": ids}, st.lists(member_ids)),
    st.just({"op": "remove", "path": "members"}),
)


def replay(members: set[str], operation: dict[str, Any]) -> set[str]:
    """The RFC-plus-Entra meaning of one member operation on a materialised set."""
    value = operation.get("value")
    ids = {item["value"] if isinstance(item, dict) else item for item in value or []}
    if operation["path"].startswith("members["):
        return members - {operation["path"].split('"')[1]}
    if operation["op"] == "add":
        return members | ids
    if operation["op"] == "replace":
        return ids
    return members - ids if "value" in operation else set()


@given(st.sets(member_ids), st.lists(member_ops, min_size=1, max_size=6))
def test_member_changes_have_the_net_effect_of_the_operations_in_order(
    initial: set[str], ops: list[dict[str, Any]]
) -> None:
    _, changes = patch_group(*ops)
    expected = initial
    for operation in ops:
        expected = replay(expected, operation)
    assert set(changes.apply_to(sorted(initial))) == expected


# --- Read-only attributes sent back unchanged (Okta, authentik) ---------------------------------

OWN_ID = "2819c223-7f76-453a-919d-413861904646"
META = {"resourceType": "User", "version": 'W/"3"', "created": "2026-01-01T00:00:00Z"}
ECHOED_READ_ONLY: list[Any] = [
    pytest.param({"op": "replace", "value": {"id": OWN_ID, "displayName": "New"}}, id="pathless-id"),
    pytest.param({"op": "add", "value": {"id": OWN_ID, "displayName": "New"}}, id="pathless-add-id"),
    pytest.param(
        {"op": "replace", "value": {"id": OWN_ID, "schemas": ["x"], "meta": META, "displayName": "New"}},
        id="pathless-id-schemas-meta",
    ),
    pytest.param(
        {"op": "replace", "value": {"groups": [{"value": "g1"}], "displayName": "New"}}, id="pathless-groups"
    ),
    pytest.param(
        {"op": "replace", "value": {"meta.version": 'W/"3"', "displayName": "New"}}, id="pathless-meta-sub"
    ),
    pytest.param({"op": "replace", "path": "id", "value": OWN_ID}, id="path-id"),
    pytest.param(
        {"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"id": OWN_ID}}},
        id="pathless-core-urn-id",
    ),
]


@pytest.mark.parametrize("operation", ECHOED_READ_ONLY)
def test_unchanged_read_only_attributes_in_a_user_patch_are_ignored(operation: dict[str, Any]) -> None:
    result = apply_user_patch(USER, parse_patch(body(operation)), resource_id=OWN_ID)
    expected = "New" if "displayName" in str(operation) else USER["displayName"]
    assert result == {**USER, "displayName": expected}


ECHOED_IN_GROUPS = [
    *(p for p in ECHOED_READ_ONLY if p.id not in ("pathless-groups", "pathless-core-urn-id")),
    pytest.param(
        {"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group": {"id": OWN_ID}}},
        id="pathless-core-urn-id",
    ),
]


@pytest.mark.parametrize("operation", ECHOED_IN_GROUPS)
def test_unchanged_read_only_attributes_in_a_group_patch_are_ignored(operation: dict[str, Any]) -> None:
    group, changes = apply_group_patch(GROUP, parse_patch(body(operation)), resource_id=OWN_ID)
    expected = "New" if "displayName" in str(operation) else GROUP["displayName"]
    assert group == {**GROUP, "displayName": expected}
    assert changes.is_empty


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param({"op": "replace", "value": {"id": "another", "displayName": "New"}}, id="pathless-id"),
        pytest.param({"op": "replace", "path": "id", "value": "another"}, id="path-id"),
        pytest.param({"op": "remove", "path": "id"}, id="remove-id"),
        pytest.param({"op": "replace", "path": "meta.version", "value": 'W/"3"'}, id="path-meta"),
        pytest.param({"op": "add", "path": "groups", "value": [{"value": "g"}]}, id="path-groups"),
    ],
)
def test_changing_the_id_or_naming_a_read_only_path_stays_a_mutability_error(
    operation: dict[str, Any],
) -> None:
    with pytest.raises(ScimError) as exc:
        apply_user_patch(USER, parse_patch(body(operation)), resource_id=OWN_ID)
    error_of(exc, "mutability")
