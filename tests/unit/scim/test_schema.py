"""Specification of the RFC 7643 schemas as data, their `/Schemas` documents and path resolution."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enlist.scim.filter_ast import AttrPath
from enlist.scim.schema import (
    COMMON_ATTRIBUTES,
    ENTERPRISE_USER_SCHEMA,
    ENTERPRISE_USER_SCHEMA_ID,
    ENTRA_GROUP_SCHEMA_ID,
    GROUP_SCHEMA,
    GROUP_SCHEMA_ID,
    USER_SCHEMA,
    USER_SCHEMA_ID,
    Attribute,
    Schema,
    resolve,
    schema_document,
)

MULTI_VALUED_WITH_VALUE = (
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509Certificates",
)


def attribute(schema: Schema, name: str) -> Attribute:
    found = schema.attribute(name)
    assert found is not None, name
    return found


def sub_names(attr: Attribute) -> list[str]:
    return [sub.name for sub in attr.sub_attributes]


def test_schema_ids_are_the_rfc_and_entra_urns() -> None:
    assert USER_SCHEMA.id == USER_SCHEMA_ID == "urn:ietf:params:scim:schemas:core:2.0:User"
    assert ENTERPRISE_USER_SCHEMA.id == ENTERPRISE_USER_SCHEMA_ID
    assert ENTERPRISE_USER_SCHEMA_ID == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert GROUP_SCHEMA.id == GROUP_SCHEMA_ID == "urn:ietf:params:scim:schemas:core:2.0:Group"
    assert ENTRA_GROUP_SCHEMA_ID == "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def test_user_schema_has_every_rfc7643_user_attribute_in_order() -> None:
    assert [a.name for a in USER_SCHEMA.attributes] == [
        "userName",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "password",
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "groups",
        "entitlements",
        "roles",
        "x509Certificates",
    ]


def test_user_name_is_required_case_insensitive_and_unique_per_server() -> None:
    user_name = attribute(USER_SCHEMA, "userName")
    assert (user_name.required, user_name.case_exact, user_name.uniqueness) == (True, False, "server")


def test_password_is_write_only_and_never_returned() -> None:
    password = attribute(USER_SCHEMA, "password")
    assert (password.mutability, password.returned) == ("writeOnly", "never")


def test_groups_is_read_only_with_read_only_sub_attributes() -> None:
    groups = attribute(USER_SCHEMA, "groups")
    assert groups.mutability == "readOnly"
    assert groups.multi_valued
    assert sub_names(groups) == ["value", "$ref", "display", "type"]
    assert {sub.mutability for sub in groups.sub_attributes} == {"readOnly"}


def test_name_has_the_six_name_components() -> None:
    assert sub_names(attribute(USER_SCHEMA, "name")) == [
        "formatted",
        "familyName",
        "givenName",
        "middleName",
        "honorificPrefix",
        "honorificSuffix",
    ]


@pytest.mark.parametrize("name", MULTI_VALUED_WITH_VALUE)
def test_multi_valued_attributes_have_value_display_type_primary(name: str) -> None:
    attr = attribute(USER_SCHEMA, name)
    assert attr.multi_valued
    assert attr.type == "complex"
    assert sub_names(attr) == ["value", "display", "type", "primary"]
    assert attribute_sub(attr, "primary").type == "boolean"


def attribute_sub(attr: Attribute, name: str) -> Attribute:
    found = attr.sub(name)
    assert found is not None
    return found


def test_addresses_have_the_postal_components() -> None:
    assert sub_names(attribute(USER_SCHEMA, "addresses")) == [
        "formatted",
        "streetAddress",
        "locality",
        "region",
        "postalCode",
        "country",
        "type",
        "primary",
    ]


@pytest.mark.parametrize(
    ("name", "types"),
    [
        ("emails", ("work", "home", "other")),
        ("phoneNumbers", ("work", "home", "mobile", "fax", "pager", "other")),
        ("ims", ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        ("photos", ("photo", "thumbnail")),
        ("addresses", ("work", "home", "other")),
    ],
)
def test_type_sub_attributes_carry_the_rfc_canonical_values(name: str, types: tuple[str, ...]) -> None:
    assert attribute_sub(attribute(USER_SCHEMA, name), "type").canonical_values == types


def test_photo_values_are_external_references_and_certificates_binary() -> None:
    photo = attribute_sub(attribute(USER_SCHEMA, "photos"), "value")
    assert (photo.type, photo.reference_types) == ("reference", ("external",))
    assert attribute_sub(attribute(USER_SCHEMA, "x509Certificates"), "value").type == "binary"


def test_enterprise_user_has_its_five_strings_and_manager() -> None:
    assert [a.name for a in ENTERPRISE_USER_SCHEMA.attributes] == [
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    ]
    manager = attribute(ENTERPRISE_USER_SCHEMA, "manager")
    assert sub_names(manager) == ["value", "$ref", "displayName"]
    assert attribute_sub(manager, "$ref").reference_types == ("User",)
    assert attribute_sub(manager, "displayName").mutability == "readOnly"


def test_group_has_display_name_and_members() -> None:
    assert [a.name for a in GROUP_SCHEMA.attributes] == ["displayName", "members"]
    members = attribute(GROUP_SCHEMA, "members")
    assert sub_names(members) == ["value", "$ref", "type", "display"]
    assert attribute_sub(members, "$ref").reference_types == ("User", "Group")
    assert attribute_sub(members, "type").canonical_values == ("User", "Group")


def test_external_id_is_a_common_case_exact_read_write_string() -> None:
    external_id = next(a for a in COMMON_ATTRIBUTES if a.name == "externalId")
    assert (external_id.type, external_id.case_exact, external_id.mutability) == ("string", True, "readWrite")


def test_id_is_read_only_and_always_returned() -> None:
    id_ = next(a for a in COMMON_ATTRIBUTES if a.name == "id")
    assert (id_.mutability, id_.returned, id_.case_exact) == ("readOnly", "always", True)


def test_schema_document_is_the_rfc7643_section7_representation() -> None:
    doc = schema_document(GROUP_SCHEMA)
    assert doc == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP_SCHEMA_ID,
        "name": "Group",
        "description": "Group",
        "attributes": [
            {
                "name": "displayName",
                "type": "string",
                "multiValued": False,
                "description": "A human-readable name for the Group. REQUIRED.",
                "required": True,
                "caseExact": False,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none",
            },
            doc["attributes"][1],
        ],
    }
    members = doc["attributes"][1]
    assert members["subAttributes"][1] == {
        "name": "$ref",
        "type": "reference",
        "multiValued": False,
        "description": "The URI of the SCIM resource that is a member of this Group.",
        "required": False,
        "caseExact": True,
        "mutability": "immutable",
        "returned": "default",
        "uniqueness": "none",
        "referenceTypes": ["User", "Group"],
    }


def walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *[item for v in value.values() for item in walk(v)]]
    if isinstance(value, list):
        return [value, *[item for v in value for item in walk(v)]]
    return [value]


@pytest.mark.parametrize("schema", [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA], ids=lambda s: s.name)
def test_schema_documents_have_no_nulls_and_are_json(schema: Schema) -> None:
    doc = schema_document(schema)
    assert None not in walk(doc)
    assert json.loads(json.dumps(doc)) == doc


def test_schema_document_keeps_canonical_values_and_returned_never() -> None:
    attributes = {a["name"]: a for a in schema_document(USER_SCHEMA)["attributes"]}
    assert attributes["password"]["returned"] == "never"
    assert attributes["password"]["mutability"] == "writeOnly"
    email_type = next(s for s in attributes["emails"]["subAttributes"] if s["name"] == "type")
    assert email_type["canonicalValues"] == ["work", "home", "other"]
    assert "caseExact" not in attributes["name"]
    assert "subAttributes" not in attributes["userName"]


def test_resolve_finds_core_attributes_in_any_case() -> None:
    resolved = resolve(AttrPath(None, "USERNAME"), "User")
    assert resolved is not None
    assert (resolved.schema_id, resolved.attribute.name, resolved.sub_attribute) == (
        USER_SCHEMA_ID,
        "userName",
        None,
    )


def test_resolve_finds_sub_attributes_in_any_case() -> None:
    resolved = resolve(AttrPath(None, "name", "FamilyName"), "User")
    assert resolved is not None
    assert resolved.attribute.name == "name"
    assert resolved.sub_attribute is not None
    assert resolved.sub_attribute.name == "familyName"


def test_resolve_finds_unqualified_enterprise_attributes() -> None:
    resolved = resolve(AttrPath(None, "manager"), "User")
    assert resolved is not None
    assert resolved.schema_id == ENTERPRISE_USER_SCHEMA_ID
    assert resolved.is_extension


def test_resolve_finds_urn_qualified_enterprise_attributes_in_any_case() -> None:
    resolved = resolve(AttrPath(ENTERPRISE_USER_SCHEMA_ID.upper(), "EMPLOYEENUMBER"), "User")
    assert resolved is not None
    assert (resolved.schema_id, resolved.attribute.name) == (ENTERPRISE_USER_SCHEMA_ID, "employeeNumber")


def test_resolve_finds_core_urn_qualified_and_common_attributes() -> None:
    for path, name in [
        (AttrPath(USER_SCHEMA_ID, "userName"), "userName"),
        (AttrPath(USER_SCHEMA_ID, "externalId"), "externalId"),
        (AttrPath(None, "id"), "id"),
        (AttrPath(None, "meta", "lastModified"), "meta"),
    ]:
        resolved = resolve(path, "User")
        assert resolved is not None
        assert resolved.attribute.name == name
        assert not resolved.is_extension


@pytest.mark.parametrize(
    "path",
    [
        AttrPath(None, "shoeSize"),
        AttrPath(None, "name", "nickname"),
        AttrPath(None, "userName", "value"),
        AttrPath("urn:ietf:params:scim:schemas:extension:Custom:2.0:User", "shoeSize"),
        AttrPath(ENTERPRISE_USER_SCHEMA_ID, "userName"),
        AttrPath(GROUP_SCHEMA_ID, "displayName"),
    ],
    ids=str,
)
def test_resolve_returns_none_for_what_the_user_schemas_do_not_define(path: AttrPath) -> None:
    assert resolve(path, "User") is None


def test_resolve_on_groups_knows_members_but_not_enterprise_attributes() -> None:
    members = resolve(AttrPath(None, "Members", "Value"), "Group")
    assert members is not None
    assert members.attribute.name == "members"
    assert resolve(AttrPath(None, "manager"), "Group") is None
    assert resolve(AttrPath(None, "userName"), "Group") is None
