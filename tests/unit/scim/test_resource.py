"""Specification of User and Group body validation into canonical resource documents."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.scim.errors import ScimError
from enlist.scim.resource import parse_group, parse_user

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def scim_error(exc: pytest.ExceptionInfo[ScimError], scim_type: str) -> str:
    assert exc.value.status == 400
    assert exc.value.scim_type == scim_type
    return exc.value.detail


# --- Entra's create bodies (entra-scim.md §2.3) --------------------------------------------------


def test_documented_entra_create_body_becomes_a_canonical_document() -> None:
    body = {
        "schemas": [CORE, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_11bb11bb@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    }
    assert parse_user(body) == {
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_11bb11bb@testuser.com"}],
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    }


def test_default_mapping_create_body_keeps_every_value_as_sent() -> None:
    body = {
        "schemas": [CORE, ENTERPRISE],
        "externalId": "jdoe",
        "userName": "jdoe@contoso.com",
        "active": True,
        "displayName": "John Doe",
        "title": "Engineer",
        "preferredLanguage": "en-US",
        "emails": [{"primary": True, "type": "work", "value": "jdoe@contoso.com"}],
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
            {"type": "mobile", "value": "55555555555"},
        ],
        ENTERPRISE: {"employeeNumber": "1234", "department": "R&D"},
        "meta": {"resourceType": "User"},
    }
    expected = {k: v for k, v in body.items() if k not in ("schemas", "meta")}
    assert parse_user(body) == expected


@pytest.mark.parametrize(
    ("sent", "stored"),
    [(True, True), (False, False), ("True", True), ("False", False), ("true", True), ("false", False)],
)
def test_active_accepts_booleans_and_entra_boolean_strings(sent: object, stored: bool) -> None:
    assert parse_user({"userName": "u", "active": sent})["active"] is stored


def test_boolean_strings_are_accepted_in_sub_attributes_too() -> None:
    doc = parse_user({"userName": "u", "emails": [{"value": "a@b", "primary": "True"}]})
    assert doc["emails"] == [{"value": "a@b", "primary": True}]


@pytest.mark.parametrize("sent", ["yes", 1, 0, "", [True]])
def test_active_that_is_not_a_boolean_is_an_invalid_value(sent: object) -> None:
    with pytest.raises(ScimError) as exc:
        parse_user({"userName": "u", "active": sent})
    assert "active must be a boolean" in scim_error(exc, "invalidValue")


def test_legacy_null_attributes_are_dropped() -> None:
    body = {
        "userName": "u",
        "addresses": None,
        "phoneNumbers": None,
        "nickName": None,
        ENTERPRISE: {"manager": None},
    }
    assert parse_user(body) == {"userName": "u"}


def test_empty_lists_and_null_items_are_dropped() -> None:
    assert parse_user({"userName": "u", "roles": [], "emails": [None], "name": {"givenName": None}}) == {
        "userName": "u"
    }


def test_empty_strings_are_kept_as_sent() -> None:
    assert parse_user({"userName": "u", "nickName": ""})["nickName"] == ""


def test_attribute_names_are_rewritten_to_their_canonical_spelling() -> None:
    body = {
        "USERNAME": "u",
        "Name": {"GIVENNAME": "Barbara", "familyname": "Jensen"},
        "Emails": [{"Value": "b@example.com", "TYPE": "work", "Primary": True}],
        "EXTERNALID": "e1",
        ENTERPRISE.upper(): {"EmployeeNumber": "7", "MANAGER": {"VALUE": "m1"}},
    }
    assert parse_user(body) == {
        "userName": "u",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@example.com", "type": "work", "primary": True}],
        "externalId": "e1",
        ENTERPRISE: {"employeeNumber": "7", "manager": {"value": "m1"}},
    }


def test_read_only_attributes_and_schemas_are_dropped_silently() -> None:
    body = {
        "schemas": [CORE],
        "id": "server-id",
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z"},
        "groups": [{"value": "g1", "display": "Group 1"}],
        "userName": "u",
    }
    assert parse_user(body) == {"userName": "u"}


def test_unknown_core_attributes_and_sub_attributes_are_dropped() -> None:
    body = {"userName": "u", "shoeSize": 42, "name": {"givenName": "A", "nickname": "B"}}
    assert parse_user(body) == {"userName": "u", "name": {"givenName": "A"}}


def test_custom_extension_not_listed_in_schemas_is_kept_verbatim() -> None:
    body = {
        "schemas": [CORE],
        "userName": "u",
        CUSTOM: {"CostCentre": "CC-1", "Level": 3, "Tags": ["a", "b"]},
    }
    assert parse_user(body) == {
        "userName": "u",
        CUSTOM: {"CostCentre": "CC-1", "Level": 3, "Tags": ["a", "b"]},
    }


def test_custom_extension_attribute_sent_as_a_flat_urn_key_joins_its_extension_object() -> None:
    assert parse_user({"userName": "u", f"{CUSTOM}:CostCentre": "CC-1"}) == {
        "userName": "u",
        CUSTOM: {"CostCentre": "CC-1"},
    }


def test_urn_qualified_enterprise_attribute_sent_as_a_flat_key_is_placed_under_the_extension() -> None:
    assert parse_user({"userName": "u", f"{ENTERPRISE}:department": "R&D"}) == {
        "userName": "u",
        ENTERPRISE: {"department": "R&D"},
    }


def test_enterprise_object_without_known_attributes_is_dropped() -> None:
    assert parse_user({"userName": "u", ENTERPRISE: {"unknown": "x"}}) == {"userName": "u"}


@pytest.mark.parametrize(
    "sent",
    [
        "m1",
        {"value": "m1"},
        {"value": "m1", "$ref": "https://example.com/scim/Users/m1"},
        [{"$ref": "https://example.com/scim/Users/m1", "value": "m1"}],
        ["m1"],
    ],
    ids=["bare string", "value", "value and ref", "legacy list", "list of string"],
)
def test_manager_in_every_entra_shape_is_stored_as_a_value_object(sent: object) -> None:
    doc = parse_user({"userName": "u", ENTERPRISE: {"manager": sent}})
    assert doc[ENTERPRISE] == {"manager": {"value": "m1"}}


def test_manager_display_name_is_kept_when_sent() -> None:
    doc = parse_user({"userName": "u", ENTERPRISE: {"manager": {"value": "m1", "displayName": "Boss"}}})
    assert doc[ENTERPRISE]["manager"] == {"value": "m1", "displayName": "Boss"}


@pytest.mark.parametrize("sent", ["", {"value": ""}, {"displayName": "Boss"}, []])
def test_manager_without_an_id_is_no_manager(sent: object) -> None:
    assert parse_user({"userName": "u", ENTERPRISE: {"manager": sent}}) == {"userName": "u"}


def test_manager_list_of_two_is_an_invalid_value() -> None:
    with pytest.raises(ScimError) as exc:
        parse_user({"userName": "u", ENTERPRISE: {"manager": ["a", "b"]}})
    assert f"{ENTERPRISE}:manager" in scim_error(exc, "invalidValue")


def test_roles_with_stringified_json_value_are_parsed_into_the_role() -> None:
    body = {"userName": "u", "roles": [{"value": '{"id":"06b07648","value":"25","displayName":"Role1234"}'}]}
    assert parse_user(body)["roles"] == [{"value": "25", "display": "Role1234"}]


def test_roles_with_plain_values_are_kept() -> None:
    roles = [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]
    assert parse_user({"userName": "u", "roles": roles})["roles"] == roles


def test_role_value_that_only_looks_like_json_is_kept_as_a_string() -> None:
    assert parse_user({"userName": "u", "roles": [{"value": "{not json"}]})["roles"] == [
        {"value": "{not json"}
    ]


def test_multi_valued_attribute_sent_as_one_object_is_wrapped_in_a_list() -> None:
    doc = parse_user({"userName": "u", "emails": {"value": "a@b", "type": "work"}})
    assert doc["emails"] == [{"value": "a@b", "type": "work"}]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": {"givenName": 5}}, "name.givenName must be a string"),
        ({"displayName": ["x"]}, "displayName must be a string"),
        ({"emails": ["a@b"]}, "emails[0] must be an object"),
        ({"emails": [{"value": "a"}, {"value": 1}]}, "emails[1].value must be a string"),
        ({"name": "Barbara"}, "name must be an object"),
        ({"externalId": 12}, "externalId must be a string"),
        ({ENTERPRISE: {"employeeNumber": 1234}}, f"{ENTERPRISE}:employeeNumber must be a string"),
        ({ENTERPRISE: "x"}, f"{ENTERPRISE} must be an object"),
        ({ENTERPRISE: {"manager": {"value": 7}}}, f"{ENTERPRISE}:manager.value must be a string"),
        ({CUSTOM: "x"}, f"{CUSTOM}"),
    ],
)
def test_wrong_types_are_invalid_values_naming_the_attribute(body: dict[str, Any], detail: str) -> None:
    with pytest.raises(ScimError) as exc:
        parse_user({"userName": "u", **body})
    assert detail in scim_error(exc, "invalidValue")


@pytest.mark.parametrize("body", [{}, {"userName": ""}, {"userName": None}, {"displayName": "x"}])
def test_missing_or_empty_user_name_is_an_invalid_value_naming_user_name(body: dict[str, Any]) -> None:
    with pytest.raises(ScimError) as exc:
        parse_user(body)
    assert "userName" in scim_error(exc, "invalidValue")


@pytest.mark.parametrize("body", [None, [], "user", 3])
def test_a_body_that_is_not_an_object_is_invalid_syntax(body: object) -> None:
    with pytest.raises(ScimError) as exc:
        parse_user(body)
    scim_error(exc, "invalidSyntax")


def test_password_is_kept_for_the_store_to_hash() -> None:
    assert parse_user({"userName": "u", "password": "s3cret"})["password"] == "s3cret"


def test_a_string_of_65536_characters_is_accepted() -> None:
    assert len(parse_user({"userName": "u", "displayName": "x" * 65_536})["displayName"]) == 65_536


@pytest.mark.parametrize(
    "body",
    [
        {"userName": "u", "displayName": "x" * 65_537},
        {"userName": "u", "emails": [{"value": "a"}] * 1_001},
        {"userName": "u", CUSTOM: {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}},
        {"userName": "u", "x" * 65_537: 1},
    ],
    ids=["long string", "long list", "deep nesting", "long key"],
)
def test_hostile_input_is_bounded(body: dict[str, Any]) -> None:
    with pytest.raises(ScimError) as exc:
        parse_user(body)
    scim_error(exc, "invalidValue")


def test_flat_custom_key_whose_document_would_nest_too_deep_is_bounded() -> None:
    with pytest.raises(ScimError) as exc:
        parse_user({"userName": "u", f"{CUSTOM}:attr": [[[[[{"": [1]}]]]]]})
    scim_error(exc, "invalidValue")


def test_nesting_of_eight_levels_is_accepted() -> None:
    body = {"userName": "u", CUSTOM: {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}
    assert parse_user(body)[CUSTOM] == body[CUSTOM]


# --- Properties -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
user_keys = st.sampled_from(
    [
        "userName",
        "USERNAME",
        "name",
        "displayName",
        "active",
        "emails",
        "phoneNumbers",
        "roles",
        "addresses",
        "externalId",
        "password",
        "groups",
        "id",
        "meta",
        ENTERPRISE,
        f"{ENTERPRISE}:manager",
        CUSTOM,
        f"{CUSTOM}:attr",
        "urn:a",
    ]
)
sub_keys = st.sampled_from(
    ["value", "type", "primary", "givenName", "manager", "employeeNumber", "display", "$ref"]
)
scimish = st.recursive(
    json_values,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(sub_keys, children, max_size=4),
    max_leaves=12,
)
user_bodies = st.dictionaries(user_keys, scimish, max_size=8).map(lambda body: {"userName": "u", **body})


@given(user_bodies)
def test_parse_user_accepts_its_own_documents_unchanged(body: dict[str, Any]) -> None:
    try:
        doc = parse_user(body)
    except ScimError:
        return
    assert parse_user(doc) == doc


@given(json_values)
def test_parse_user_raises_only_scim_errors(body: object) -> None:
    with contextlib.suppress(ScimError):
        parse_user(body)


# --- Groups (entra-scim.md §3.3) ------------------------------------------------------------------


def test_entra_group_create_with_adscim_schema_is_accepted() -> None:
    body = {
        "schemas": [GROUP, ADSCIM],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"},
    }
    assert parse_group(body) == (
        {"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"},
        [],
    )


def test_group_create_with_empty_members_list_has_no_members() -> None:
    body = {
        "schemas": [GROUP],
        "externalId": "0899060",
        "displayName": "Org Admin",
        "members": [],
        "meta": {},
    }
    assert parse_group(body) == ({"externalId": "0899060", "displayName": "Org Admin"}, [])


def test_group_members_as_objects_or_bare_strings_deduplicated_in_order() -> None:
    members = [{"value": "b", "$ref": None, "display": "B"}, "a", {"VALUE": "b"}, "c", "a"]
    assert parse_group({"displayName": "G", "Members": members}) == ({"displayName": "G"}, ["b", "a", "c"])


def test_group_member_sent_as_a_single_string_is_one_member() -> None:
    assert parse_group({"displayName": "G", "members": "string id 1"})[1] == ["string id 1"]


@pytest.mark.parametrize("member", [{"display": "no id"}, {"value": 5}, "", 7])
def test_group_member_without_a_string_id_is_an_invalid_value(member: object) -> None:
    with pytest.raises(ScimError) as exc:
        parse_group({"displayName": "G", "members": [member]})
    assert "members[0].value" in scim_error(exc, "invalidValue")


@pytest.mark.parametrize("body", [{}, {"displayName": ""}, {"displayName": None}])
def test_group_without_display_name_is_an_invalid_value(body: dict[str, Any]) -> None:
    with pytest.raises(ScimError) as exc:
        parse_group(body)
    assert "displayName" in scim_error(exc, "invalidValue")


def test_group_body_that_is_not_an_object_is_invalid_syntax() -> None:
    with pytest.raises(ScimError) as exc:
        parse_group(["displayName"])
    scim_error(exc, "invalidSyntax")


def test_group_drops_user_attributes_and_keeps_custom_extensions() -> None:
    custom = "urn:ietf:params:scim:schemas:extension:Custom:2.0:Group"
    body = {"displayName": "G", "userName": "u", "id": "x", custom: {"code": "G1"}}
    assert parse_group(body) == ({"displayName": "G", custom: {"code": "G1"}}, [])
