"""The portal shows attribute values as a person reads them: for every attribute type the User
model has (core, Enterprise, a custom extension), no JSON reaches the page and no value is lost."""

from __future__ import annotations

from typing import Any

import pytest

from enlist.lms.domain.changes import flatten
from enlist.lms.web.values import attribute_parts, members_by_name, readable, short_attribute
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA, USER_SCHEMA, Attribute

JSON_MARKS = set('{}[]"')
SAMPLES: dict[str, Any] = {
    "string": "text",
    "boolean": True,
    "integer": 12345,
    "decimal": 1.5,
    "dateTime": "2026-12-08T10:00:00Z",
    "reference": "https://contoso.example/people/7",
    "binary": "TUlJQ2V6Q0NBZVNnQXdJQkFnSUJBREFOQmdrcWhraUc5dzBCQVFVRkFEQQ==",
}


def sample(attribute: Attribute, seed: str) -> Any:
    """A value of the attribute's type, every leaf string unique (so a lost one is noticed)."""
    if attribute.type == "complex":
        one = {
            sub.name: sample(sub, f"{seed}.{sub.name}")
            for sub in attribute.sub_attributes
            if sub.name != "primary"
        }
        if attribute.sub("primary"):
            one["primary"] = True
        return [one, {**one, "primary": False}] if attribute.multi_valued else one
    value = SAMPLES[attribute.type]
    if attribute.type == "string":
        value = f"{seed}-text"
    return [value, value] if attribute.multi_valued else value


def leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        # `$ref` is the URL of the value itself (RFC 7643 §2.3.7): the page links the value instead.
        return [leaf for k, v in value.items() if k not in ("type", "primary", "$ref") for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value] if isinstance(value, str) else []


USER_ATTRIBUTES = [
    *((USER_SCHEMA.id, a) for a in USER_SCHEMA.attributes),
    *((ENTERPRISE_USER_SCHEMA.id, a) for a in ENTERPRISE_USER_SCHEMA.attributes),
]


@pytest.mark.parametrize(
    ("schema_id", "attribute"), USER_ATTRIBUTES, ids=[f"{a.name}" for _, a in USER_ATTRIBUTES]
)
def test_every_user_attribute_is_shown_without_json_and_without_losing_a_value(
    schema_id: str, attribute: Attribute
) -> None:
    value = sample(attribute, attribute.name)
    doc = {attribute.name: value} if schema_id == USER_SCHEMA.id else {schema_id: {attribute.name: value}}
    shown = {name: readable(v) for name, v in flatten(doc).items()}
    text = "\n".join(line for lines in shown.values() for line in lines)
    assert shown, attribute.name
    assert not JSON_MARKS & set(text), f"{attribute.name} shows JSON: {text}"
    for leaf in leaves(value):
        assert leaf in text, f"{attribute.name}: {leaf!r} is missing from {text!r}"


def test_the_user_model_has_every_attribute_type_the_class_test_covers() -> None:
    types = {a.type for _, a in USER_ATTRIBUTES} | {
        s.type for _, a in USER_ATTRIBUTES for s in a.sub_attributes
    }
    assert types <= SAMPLES.keys() | {"complex"}
    assert {"string", "boolean", "complex", "reference", "binary"} <= types


def test_an_address_reads_as_an_address_with_its_type_and_primary_marker() -> None:
    address = {
        "type": "work",
        "streetAddress": "One Microsoft Way\nBuilding 92",
        "locality": "Redmond",
        "region": "WA",
        "postalCode": "98052",
        "country": "US",
        "primary": True,
    }
    assert readable([address]) == ["One Microsoft Way, Building 92, Redmond, WA 98052, US (work, primary)"]
    assert readable([{"formatted": "1 Main St\nSpringfield", "type": "home"}]) == [
        "1 Main St, Springfield (home)"
    ]


def test_emails_and_phone_numbers_read_with_their_type_and_primary_marker_one_per_line() -> None:
    emails = [
        {"value": "pat@contoso.example", "type": "work", "primary": True},
        {"value": "pat@fabrikam.example", "type": "home", "primary": False},
        {"value": "pat@example.org"},
    ]
    assert readable(emails) == [
        "pat@contoso.example (work, primary)",
        "pat@fabrikam.example (home)",
        "pat@example.org",
    ]
    assert readable([{"value": "+1 425 555 0100", "type": "mobile"}]) == ["+1 425 555 0100 (mobile)"]


@pytest.mark.parametrize(
    ("value", "lines"),
    [
        (None, []),
        (False, ["no"]),
        ("", [""]),
        (42, ["42"]),
        (["a", "b"], ["a", "b"]),
        ({"a": {"b": 1}}, ["a: b: 1"]),
    ],
)
def test_plain_values_read_plainly(value: Any, lines: list[str]) -> None:
    assert readable(value) == lines


@pytest.mark.parametrize(
    "name",
    [
        "employeeNumber",
        "name.givenName",
        "urn:contoso:params:scim:schemas:extension:compliance-training:2.0:User:mandatoryTrainingDeadline",
    ],
)
def test_an_attribute_name_breaks_only_after_a_colon_or_a_dot(name: str) -> None:
    parts = attribute_parts(name)
    assert "".join(parts) == name
    assert all(p[-1] in ":." for p in parts[:-1])
    assert not any(":" in p[:-1] or "." in p[:-1] for p in parts)
    assert short_attribute(name) == name.rsplit(":", 1)[-1]


def test_members_are_listed_by_name_and_unknown_ids_last() -> None:
    people = {"id-1": "zoe", "id-2": "Adam", "id-3": "mia"}
    assert members_by_name(["gone", "id-1", "id-2", "id-3"], people) == ["id-2", "id-3", "id-1", "gone"]
