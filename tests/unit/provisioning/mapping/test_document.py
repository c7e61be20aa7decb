"""Specification of `to_document`: flat target paths become the nested SCIM body Entra POSTs."""

from __future__ import annotations

import pytest

from enlist.provisioning.mapping.errors import MappingError
from enlist.provisioning.mapping.mappings import to_document
from enlist.scim.resource import parse_user

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"


def test_an_empty_mapping_still_lists_both_user_schemas_as_entra_does() -> None:
    assert to_document({}) == {"schemas": [CORE, ENTERPRISE], "meta": {"resourceType": "User"}}


def test_dotted_sub_attributes_nest() -> None:
    document = to_document({"name.givenName": "John", "name.familyName": "Doe"})
    assert document["name"] == {"givenName": "John", "familyName": "Doe"}


def test_enterprise_attributes_nest_under_the_extension_key() -> None:
    document = to_document({f"{ENTERPRISE}:employeeNumber": "1234", f"{ENTERPRISE}:manager": "m-1"})
    assert document[ENTERPRISE] == {"employeeNumber": "1234", "manager": {"value": "m-1"}}


def test_core_urn_qualified_paths_go_to_the_top_level() -> None:
    assert to_document({f"{CORE}:userName": "a"})["userName"] == "a"


def test_custom_extension_attributes_nest_under_their_urn_which_schemas_does_not_list() -> None:
    document = to_document({f"{CUSTOM}:costCenter": "42"})
    assert document[CUSTOM] == {"costCenter": "42"}
    assert document["schemas"] == [CORE, ENTERPRISE]


def test_filtered_paths_create_one_element_per_filter_value() -> None:
    document = to_document(
        {
            'phoneNumbers[type eq "work"].value': "1",
            'phoneNumbers[type eq "mobile"].value': "2",
            'phoneNumbers[type eq "fax"].value': "3",
        }
    )
    assert document["phoneNumbers"] == [
        {"type": "work", "value": "1"},
        {"type": "mobile", "value": "2"},
        {"type": "fax", "value": "3"},
    ]


def test_the_first_work_email_and_address_are_primary_and_others_are_not() -> None:
    document = to_document(
        {
            'emails[type eq "work"].value': "w@x",
            'emails[type eq "home"].value': "h@x",
            'addresses[type eq "work"].locality': "Paris",
            'addresses[type eq "work"].country': "FR",
        }
    )
    assert document["emails"] == [
        {"type": "work", "primary": True, "value": "w@x"},
        {"type": "home", "value": "h@x"},
    ]
    assert document["addresses"] == [{"type": "work", "primary": True, "locality": "Paris", "country": "FR"}]


def test_entras_role_path_selects_by_a_boolean_filter_written_as_a_string() -> None:
    document = to_document(
        {'roles[primary eq "True"].value': "Admin", 'roles[primary eq "True"].type': "App"}
    )
    assert document["roles"] == [{"primary": True, "value": "Admin", "type": "App"}]


def test_attribute_names_take_their_rfc_spelling() -> None:
    document = to_document({'Addresses[Type eq "other"].Formatted': "HQ", "USERNAME": "a"})
    assert document["addresses"] == [{"type": "other", "formatted": "HQ"}]
    assert document["userName"] == "a"


def test_unknown_attributes_are_kept_as_written() -> None:
    assert to_document({"favouriteColour": "teal"})["favouriteColour"] == "teal"


def test_group_members_become_value_objects() -> None:
    document = to_document({"displayName": "G", "members": ["u1", "u2"]}, object_kind="group")
    assert document["members"] == [{"value": "u1"}, {"value": "u2"}]
    assert document["meta"] == {"resourceType": "Group"}


def test_booleans_stay_booleans() -> None:
    assert to_document({"active": False})["active"] is False


@pytest.mark.parametrize(
    ("flat", "message"),
    [
        ({"emails[type eq": "x"}, 'target "emails\\[type eq" is not a SCIM attribute path'),
        (
            {"name": "x", "name.givenName": "y"},
            'target "name.givenName" nests under name, which is already a value',
        ),
        (
            {"emails": "x", 'emails[type eq "work"].value': "y"},
            "filters emails, which is already a single value",
        ),
        ({'emails[type ne "work"].value': "x"}, 'filters with something other than "sub eq value"'),
        (
            {"userName": "a", "USERNAME": "b"},
            'target "USERNAME" sets userName, which another target already set',
        ),
    ],
)
def test_paths_that_cannot_make_one_document_are_mapping_errors(flat: dict[str, str], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        to_document(flat)


def test_a_document_with_every_shape_is_accepted_by_the_portal() -> None:
    document = to_document(
        {
            "userName": "a@x",
            "active": True,
            "name.formatted": "A B",
            'emails[type eq "work"].value': "a@x",
            'addresses[type eq "work"].postalCode': "75001",
            'phoneNumbers[type eq "mobile"].value': "+33",
            'roles[primary eq "True"].value': "Admin",
            f"{ENTERPRISE}:manager": "m-1",
            f"{ENTERPRISE}:department": "R&D",
            f"{CUSTOM}:costCenter": "42",
        }
    )
    assert parse_user(document) == {
        "userName": "a@x",
        "active": True,
        "name": {"formatted": "A B"},
        "emails": [{"type": "work", "primary": True, "value": "a@x"}],
        "addresses": [{"type": "work", "primary": True, "postalCode": "75001"}],
        "phoneNumbers": [{"type": "mobile", "value": "+33"}],
        "roles": [{"primary": True, "value": "Admin"}],
        ENTERPRISE: {"manager": {"value": "m-1"}, "department": "R&D"},
        CUSTOM: {"costCenter": "42"},
    }
