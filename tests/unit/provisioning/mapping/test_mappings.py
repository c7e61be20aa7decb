"""Specification of attribute mappings: validation, Entra's default mappings, `map_object`, and
the JSON they are stored as."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.provisioning.directory.model import SourceGroup, SourceUser
from enlist.provisioning.mapping.errors import MappingError
from enlist.provisioning.mapping.expression import Call, render
from enlist.provisioning.mapping.mappings import (
    AttributeMapping,
    ObjectMapping,
    default_group_mapping,
    default_user_mapping,
    map_object,
    mapped_value,
    mapping_from_json,
    mapping_to_json,
    to_document,
    validate_mapping,
)
from enlist.provisioning.mapping.source import group_source, user_source
from enlist.scim.resource import parse_group, parse_user

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def jdoe(**changes: Any) -> SourceUser:
    """A realistic Graph user: the one entra-scim.md §2.3 assembles its create body from."""
    attributes = {
        "userPrincipalName": "jdoe@contoso.com",
        "mail": "jdoe@contoso.com",
        "mailNickname": "jdoe",
        "givenName": "John",
        "surname": "Doe",
        "displayName": "John Doe",
        "jobTitle": "Engineer",
        "preferredLanguage": "en-US",
        "officeLocation": "Bldg 1",
        "streetAddress": "1 Main St",
        "city": "Redmond",
        "state": "WA",
        "postalCode": "98052",
        "country": "US",
        "businessPhones": ["+1 425 555 0100"],
        "mobilePhone": "+1 425 555 0101",
        "faxNumber": None,
        "employeeId": "1234",
        "department": "R&D",
        "accountEnabled": True,
        "userType": "Member",
    }
    attributes.update(changes)
    return SourceUser(id="0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", attributes=attributes)


ENTRA_CREATE_BODY = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
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
        {"type": "mobile", "value": "+1 425 555 0101"},
    ],
    ENTERPRISE: {"employeeNumber": "1234", "department": "R&D"},
    "meta": {"resourceType": "User"},
}


# --- Entra's default mappings applied ---------------------------------------------------------------


def test_default_user_mapping_of_a_graph_user_is_the_body_entra_posts() -> None:
    flat = map_object(default_user_mapping(), user_source(jdoe()), creating=True)
    assert to_document(flat) == ENTRA_CREATE_BODY


def test_the_body_entra_posts_is_accepted_by_the_portal() -> None:
    document = to_document(map_object(default_user_mapping(), user_source(jdoe()), creating=True))
    assert parse_user(document) == {
        k: v for k, v in ENTRA_CREATE_BODY.items() if k not in ("schemas", "meta")
    }


def test_default_user_mapping_gives_flat_target_paths() -> None:
    flat = map_object(default_user_mapping(), user_source(jdoe()), creating=False)
    assert flat == {
        "userName": "jdoe@contoso.com",
        "active": True,
        "displayName": "John Doe",
        "title": "Engineer",
        'emails[type eq "work"].value': "jdoe@contoso.com",
        "preferredLanguage": "en-US",
        "name.givenName": "John",
        "name.familyName": "Doe",
        "name.formatted": "John Doe",
        'addresses[type eq "work"].formatted': "Bldg 1",
        'addresses[type eq "work"].streetAddress': "1 Main St",
        'addresses[type eq "work"].locality': "Redmond",
        'addresses[type eq "work"].region': "WA",
        'addresses[type eq "work"].postalCode': "98052",
        'addresses[type eq "work"].country': "US",
        'phoneNumbers[type eq "work"].value': "+1 425 555 0100",
        'phoneNumbers[type eq "mobile"].value': "+1 425 555 0101",
        "externalId": "jdoe",
        f"{ENTERPRISE}:employeeNumber": "1234",
        f"{ENTERPRISE}:department": "R&D",
    }


def test_a_disabled_user_maps_active_to_false() -> None:
    flat = map_object(default_user_mapping(), user_source(jdoe(accountEnabled=False)), creating=False)
    assert flat["active"] is False


def test_an_out_of_scope_or_soft_deleted_user_maps_active_to_false() -> None:
    deleted = SourceUser("u1", jdoe().attributes, deleted_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert (
        map_object(default_user_mapping(), user_source(jdoe(), in_scope=False), creating=False)["active"]
        is False
    )
    assert map_object(default_user_mapping(), user_source(deleted), creating=False)["active"] is False


def test_the_manager_maps_to_the_managers_source_id() -> None:
    user = SourceUser("u1", jdoe().attributes, manager_id="m-source-id")
    flat = map_object(default_user_mapping(), user_source(user), creating=False)
    assert flat[f"{ENTERPRISE}:manager"] == "m-source-id"


def test_null_source_attributes_are_left_out() -> None:
    user = SourceUser("u1", {"userPrincipalName": "a@contoso.com", "accountEnabled": True})
    assert map_object(default_user_mapping(), user_source(user), creating=True) == {
        "userName": "a@contoso.com",
        "active": True,
    }


def test_strings_are_kept_exactly_as_the_source_has_them() -> None:
    flat = map_object(
        default_user_mapping(), user_source(jdoe(displayName="  Zoë  O'Brien ")), creating=False
    )
    assert flat["displayName"] == "  Zoë  O'Brien "


def test_default_group_mapping_gives_display_name_object_id_and_member_source_ids() -> None:
    group = SourceGroup("g-1", {"displayName": "Sales", "mailNickname": "sales"}, frozenset({"u2", "u1"}))
    flat = map_object(default_group_mapping(), group_source(group), creating=True)
    assert flat == {"displayName": "Sales", "externalId": "g-1", "members": ["u1", "u2"]}
    document = to_document(flat, object_kind="group")
    assert document == {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
        ],
        "displayName": "Sales",
        "externalId": "g-1",
        "members": [{"value": "u1"}, {"value": "u2"}],
        "meta": {"resourceType": "Group"},
    }
    assert parse_group(document) == ({"displayName": "Sales", "externalId": "g-1"}, ["u1", "u2"])


def test_default_mappings_match_on_user_name_and_display_name() -> None:
    assert [m.target for m in default_user_mapping().matching()] == ["userName"]
    assert [m.target for m in default_group_mapping().matching()] == ["displayName"]


def test_default_user_mapping_has_entras_22_rows_in_order() -> None:
    rows = default_user_mapping().attributes
    assert len(rows) == 22
    assert (rows[1].target, rows[1].kind, rows[1].source) == (
        "active",
        "expression",
        'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
    )
    assert (rows[8].target, rows[8].source) == ("name.formatted", 'Join(" ", [givenName], [surname])')
    assert (rows[18].target, rows[18].source) == ("externalId", "mailNickname")
    assert (rows[21].target, rows[21].kind, rows[21].source) == (f"{ENTERPRISE}:manager", "direct", "manager")


# --- map_object's rules ------------------------------------------------------------------------------


def user_mapping(*rows: AttributeMapping) -> ObjectMapping:
    return ObjectMapping(
        "user", True, (AttributeMapping("userName", "direct", "upn", matching_precedence=1), *rows)
    )


def test_on_create_mappings_apply_only_when_creating() -> None:
    mapping = user_mapping(AttributeMapping("nickName", "constant", "new", apply="on_create"))
    assert map_object(mapping, {"upn": "a"}, creating=True) == {"userName": "a", "nickName": "new"}
    assert map_object(mapping, {"upn": "a"}, creating=False) == {"userName": "a"}


def test_the_default_if_null_applies_only_when_creating() -> None:
    mapping = user_mapping(AttributeMapping("title", "direct", "jobTitle", default_if_null="Staff"))
    assert map_object(mapping, {"upn": "a"}, creating=True)["title"] == "Staff"
    assert "title" not in map_object(mapping, {"upn": "a"}, creating=False)
    assert map_object(mapping, {"upn": "a", "jobTitle": "Boss"}, creating=True)["title"] == "Boss"


def test_a_none_mapping_sends_nothing_but_its_default_on_create() -> None:
    mapping = user_mapping(
        AttributeMapping("nickName", "none", ""), AttributeMapping("locale", "none", "", default_if_null="en")
    )
    assert map_object(mapping, {"upn": "a"}, creating=True) == {"userName": "a", "locale": "en"}
    assert map_object(mapping, {"upn": "a"}, creating=False) == {"userName": "a"}


def test_constants_are_sent_as_written() -> None:
    mapping = user_mapping(AttributeMapping("userType", "constant", "Employee"))
    assert map_object(mapping, {"upn": "a"}, creating=False)["userType"] == "Employee"


def test_boolean_targets_get_real_booleans_from_strings_in_any_case() -> None:
    mapping = user_mapping(
        AttributeMapping("active", "expression", "Not([IsSoftDeleted])"),
        AttributeMapping('emails[type eq "work"].primary', "constant", "true"),
    )
    flat = map_object(mapping, {"upn": "a", "IsSoftDeleted": False}, creating=True)
    assert flat["active"] is True
    assert flat['emails[type eq "work"].primary'] is True


def test_a_boolean_target_given_something_else_is_a_mapping_error() -> None:
    mapping = user_mapping(AttributeMapping("active", "constant", "yes"))
    with pytest.raises(
        MappingError, match=r'"active" is a Boolean attribute, but its mapping gave "yes"'
    ) as caught:
        map_object(mapping, {"upn": "a"}, creating=True)
    assert caught.value.target == "active"


def test_an_expression_that_fails_for_this_object_is_a_mapping_error_naming_the_target() -> None:
    mapping = user_mapping(AttributeMapping("nickName", "expression", "ToLower([proxyAddresses])"))
    with pytest.raises(
        MappingError, match='mapping for "nickName": ToLower argument 1 expects a single value'
    ):
        map_object(mapping, {"upn": "a", "proxyAddresses": ["x", "y"]}, creating=True)


def test_multi_valued_results_are_lists_and_empty_lists_are_left_out() -> None:
    mapping = user_mapping(AttributeMapping("roles", "direct", "roles"))
    assert map_object(mapping, {"upn": "a", "roles": ("r1", "r2")}, creating=True)["roles"] == ["r1", "r2"]
    assert "roles" not in map_object(mapping, {"upn": "a", "roles": []}, creating=True)


def test_guid_mappings_use_the_generator_given() -> None:
    mapping = user_mapping(AttributeMapping("externalId", "expression", "Guid()", apply="on_create"))
    flat = map_object(mapping, {"upn": "a"}, creating=True, new_guid=lambda: "fixed")
    assert flat["externalId"] == "fixed"


def test_mapped_value_is_the_value_to_match_with() -> None:
    row = AttributeMapping(
        "userName", "expression", 'Item(Split([userPrincipalName], "@"), 1)', matching_precedence=1
    )
    assert mapped_value(row, {"userPrincipalName": "jdoe@contoso.com"}) == "jdoe"


def test_matching_lists_matching_attributes_in_precedence_order() -> None:
    mapping = ObjectMapping(
        "user",
        True,
        (
            AttributeMapping("displayName", "direct", "displayName"),
            AttributeMapping("externalId", "direct", "objectId", matching_precedence=2),
            AttributeMapping("userName", "direct", "userPrincipalName", matching_precedence=1),
        ),
    )
    assert [m.target for m in mapping.matching()] == ["userName", "externalId"]


# --- validation -----------------------------------------------------------------------------------


def test_an_expression_mapping_is_parsed_when_built() -> None:
    row = AttributeMapping("name.formatted", "expression", 'Join(" ", [givenName], [surname])')
    assert isinstance(row.expression, Call)
    assert render(row.expression) == 'Join(" ", [givenName], [surname])'
    assert validate_mapping(row) is row


def test_an_expression_that_does_not_parse_is_a_mapping_error_with_its_position() -> None:
    with pytest.raises(MappingError) as caught:
        AttributeMapping("name.formatted", "expression", 'Join(" ", [givenName], [surname]')
    assert (
        str(caught.value)
        == 'mapping for "name.formatted": expected ")" to close Join( opened at 0, at character 32'
    )
    assert (caught.value.target, caught.value.position) == ("name.formatted", 32)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"target": "emails[type eq", "kind": "direct", "source": "mail"},
            'target "emails[type eq" is not a SCIM attribute path',
        ),
        ({"target": "", "kind": "direct", "source": "mail"}, "a mapping needs a target attribute path"),
        ({"target": "title", "kind": "copy", "source": "mail"}, 'mapping for "title": unknown kind "copy"'),
        (
            {"target": "title", "kind": "direct", "source": "x", "apply": "sometimes"},
            'unknown apply "sometimes"',
        ),
        (
            {"target": "title", "kind": "direct", "source": ""},
            "a direct mapping needs a source attribute name",
        ),
        (
            {"target": "title", "kind": "direct", "source": " jobTitle"},
            "a direct mapping needs a source attribute name",
        ),
        ({"target": "title", "kind": "none", "source": "jobTitle"}, 'a "none" mapping has no source'),
        (
            {"target": "title", "kind": "none", "source": "", "matching_precedence": 1},
            'a "none" mapping has no source',
        ),
        (
            {"target": "title", "kind": "direct", "source": "x", "matching_precedence": 0},
            "matching precedence must be 1 or more",
        ),
        (
            {"target": "title", "kind": "direct", "source": "x", "matching_precedence": True},
            "matching precedence must be 1 or more",
        ),
        (
            {"target": "title", "kind": "direct", "source": "x", "default_if_null": 3},
            "the default value must be text",
        ),
    ],
)
def test_invalid_mappings_are_refused_when_built(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError, match=message.replace("[", r"\[")):
        AttributeMapping(**fields)


def test_targets_are_unique_case_insensitively() -> None:
    with pytest.raises(MappingError, match='"Title" is mapped twice'):
        user_mapping(AttributeMapping("title", "direct", "a"), AttributeMapping("Title", "direct", "b"))


def test_matching_precedences_are_unique() -> None:
    with pytest.raises(MappingError, match="matching precedence 1 is used twice"):
        user_mapping(AttributeMapping("externalId", "direct", "objectId", matching_precedence=1))


def test_an_enabled_mapping_needs_a_matching_attribute_and_a_disabled_one_does_not() -> None:
    with pytest.raises(MappingError, match="the group mapping needs a matching attribute"):
        ObjectMapping("group", True, (AttributeMapping("displayName", "direct", "displayName"),))
    assert ObjectMapping("group", False, ()).attributes == ()


def test_mapping_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown object kind"):
        ObjectMapping("device", True, ())  # type: ignore[arg-type]


# --- storage --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mapping", [default_user_mapping(), default_group_mapping()])
def test_default_mappings_round_trip_through_json(mapping: ObjectMapping) -> None:
    stored = json.loads(json.dumps(mapping_to_json(mapping)))
    assert mapping_from_json(stored) == mapping
    assert mapping_to_json(mapping_from_json(stored)) == stored


def test_the_stored_form_names_every_field() -> None:
    stored = mapping_to_json(default_group_mapping())
    assert stored == {
        "object_kind": "group",
        "enabled": True,
        "attributes": [
            {
                "target": "displayName",
                "kind": "direct",
                "source": "displayName",
                "apply": "always",
                "matching_precedence": 1,
                "default_if_null": None,
            },
            {
                "target": "externalId",
                "kind": "direct",
                "source": "objectId",
                "apply": "always",
                "matching_precedence": None,
                "default_if_null": None,
            },
            {
                "target": "members",
                "kind": "direct",
                "source": "members",
                "apply": "always",
                "matching_precedence": None,
                "default_if_null": None,
            },
        ],
    }


@pytest.mark.parametrize(
    "stored",
    [
        [],
        {"object_kind": "user", "enabled": True},
        {"object_kind": "user", "enabled": "yes", "attributes": []},
        {"object_kind": "user", "enabled": False, "attributes": [{"target": "title"}]},
        {
            "object_kind": "user",
            "enabled": False,
            "attributes": [{"target": "t", "kind": "direct", "source": "s", "x": 1}],
        },
        {
            "object_kind": "user",
            "enabled": False,
            "attributes": [{"target": "t", "kind": "expression", "source": "Jion()"}],
        },
    ],
)
def test_malformed_stored_mappings_are_mapping_errors(stored: Any) -> None:
    with pytest.raises(MappingError):
        mapping_from_json(stored)


_ROWS = st.builds(
    AttributeMapping,
    target=st.sampled_from(["title", "nickName", 'emails[type eq "work"].value', f"{ENTERPRISE}:department"]),
    kind=st.sampled_from(["direct", "constant"]),
    source=st.sampled_from(["jobTitle", "mail"]),
    apply=st.sampled_from(["always", "on_create"]),
    default_if_null=st.one_of(st.none(), st.text(max_size=8)),
)


@given(
    st.lists(
        st.one_of(
            _ROWS,
            st.builds(
                AttributeMapping,
                target=st.sampled_from(["title", "nickName"]),
                kind=st.just("expression"),
                source=st.sampled_from(['Join(" ", [givenName], [surname])', "ToLower([mail])", '"x"']),
            ),
        ),
        max_size=4,
        unique_by=lambda row: row.target,
    ),
    st.booleans(),
)
def test_any_mapping_round_trips_through_json(rows: list[AttributeMapping], enabled: bool) -> None:
    mapping = ObjectMapping(
        "user", enabled, (AttributeMapping("userName", "direct", "upn", matching_precedence=1), *rows)
    )
    assert mapping_from_json(json.loads(json.dumps(mapping_to_json(mapping)))) == mapping
