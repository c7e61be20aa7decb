"""Validate and canonicalise SCIM User and Group bodies (POST/PUT) into resource documents.

A document is a plain JSON dict in canonical form: core attributes at the top level with
RFC 7643's exact spelling, enterprise attributes under the enterprise URN key, custom extension
objects under their own URN key as sent, `externalId` at the top level; never `id`, `meta`,
`schemas`, `groups` or group `members` (the store adds those). Values keep the exact format the
client sent (Entra re-PATCHes forever when a value comes back reformatted); only booleans sent as
strings become booleans and Entra's manager and role shapes become RFC shapes.

Rules that callers rely on:

- Attribute names match in any case and are rewritten to their canonical spelling.
- Read-only attributes (`id`, `meta`, `groups`…) and `schemas` are dropped silently (Entra
  sends `meta` in POST bodies); `manager.displayName` is the exception, kept when sent. Unknown
  core attributes and unknown sub-attributes are dropped too: Entra sends only mapped
  attributes, so an unknown one is a mapping we do not serve, not an error.
- `null`, empty lists and empty objects are dropped (null means unassigned); `""` is kept.
- An object under a URN key that is not one of our schemas is a custom extension (Entra may not
  list it in `schemas`): kept verbatim (minus top-level nulls) under the key as sent.
- `password` (writeOnly) is kept as sent: the store must hash or drop it; it is never returned.
- Every function here returns a document that it would itself accept unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from enlist.scim.errors import invalid_syntax, invalid_value
from enlist.scim.schema import (
    ENTERPRISE_USER_SCHEMA,
    RESOURCE_SCHEMAS,
    Attribute,
    ResourceName,
    Schema,
    common_attribute,
    schema_by_id,
)

MAX_STRING_LENGTH = 65_536
MAX_LIST_LENGTH = 1_000
MAX_MEMBERS = 50_000
"""The most members one group body or PATCH operation may list: Okta's custom apps PUT the whole
member list on every change, and authentik and Okta's full push replace it in one operation."""
MAX_DEPTH = 8

_MANAGER = ENTERPRISE_USER_SCHEMA.attribute("manager")
_RESERVED_URN_PREFIXES = ("urn:ietf:params:scim:schemas:core:", "urn:ietf:params:scim:api:")
_ALL_SCHEMA_IDS = frozenset(s.id.lower() for schemas in RESOURCE_SCHEMAS.values() for s in schemas)


def parse_user(body: object) -> dict[str, Any]:
    """The canonical user document for a POST/PUT body; raises `ScimError` (400) when invalid.

    Not an object: `invalidSyntax`. A value of the wrong type, a missing or empty `userName`, a
    string longer than 65,536 characters, a list longer than 1,000 items or nesting deeper than
    8: `invalidValue`, with a detail naming the attribute (`name.givenName must be a string`).
    """
    if not isinstance(body, dict):
        raise invalid_syntax("A User must be a JSON object.")
    check_bounds(body)
    doc: dict[str, Any] = {}
    for key, value in body.items():
        _place(doc, key, value, "User")
    user_name = doc.get("userName")
    if not isinstance(user_name, str) or not user_name:
        raise invalid_value("userName is required and must be a non-empty string")
    check_bounds(doc)  # a flat `urn:…:attr` key nests one level deeper in the document
    return doc


def parse_group(body: object) -> tuple[dict[str, Any], list[str]]:
    """The canonical group document for a POST/PUT body, and the member ids from `members`.

    `displayName` is required and non-empty. Members are `{"value": id}` objects or bare id
    strings (Microsoft's test collection), at most `MAX_MEMBERS`; duplicates are removed, first
    occurrence kept. Unknown schema URIs, such as Entra's ADSCIM Group one, are accepted.
    """
    if not isinstance(body, dict):
        raise invalid_syntax("A Group must be a JSON object.")
    check_group_bounds(body)
    doc: dict[str, Any] = {}
    members: list[str] = []
    for key, value in body.items():
        if key.lower() == "members":
            members = parse_member_ids(value, "members")
        else:
            _place(doc, key, value, "Group")
    display_name = doc.get("displayName")
    if not isinstance(display_name, str) or not display_name:
        raise invalid_value("displayName is required and must be a non-empty string")
    check_bounds(doc)
    return doc, members


def parse_member_ids(value: object, where: str) -> list[str]:
    """Member ids from `{"value": id}` objects, bare strings, or a list of either; deduplicated."""
    items = value if isinstance(value, list) else [] if value is None else [value]
    ids: dict[str, None] = {}  # ordered and a set: a 50,000-member list dedupes in linear time
    for index, item in enumerate(items):
        if item is None:
            continue
        member = _find(item, "value") if isinstance(item, dict) else item
        if not isinstance(member, str) or not member:
            raise invalid_value(f"{where}[{index}].value must be a non-empty string (a member id)")
        ids[member] = None
    return list(ids)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_bounds(
    value: object, where: str = "the body", depth: int = 1, *, max_items: int = MAX_LIST_LENGTH
) -> None:
    """Reject hostile input: strings over 65,536 characters or with characters no database
    stores (NUL, lone surrogates), lists over 1,000 items (`max_items` for `value` itself when
    it is a list; lists inside it keep 1,000), nesting deeper than 8."""
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            raise invalid_value(f"{where} is longer than {MAX_STRING_LENGTH} characters")
        if "\x00" in value or _has_lone_surrogate(value):
            raise invalid_value(f"{where} contains a NUL character or invalid Unicode")
        return
    if not isinstance(value, dict | list):
        return
    if depth > MAX_DEPTH:
        raise invalid_value(f"{where} nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        if len(value) > max_items:
            raise invalid_value(f"{where} has more than {max_items} items")
        for index, item in enumerate(value):
            check_bounds(item, f"{where}[{index}]", depth + 1)
        return
    for key, item in value.items():
        check_bounds(key, f"an attribute name in {where}", depth)
        check_bounds(item, key, depth + 1)


def check_group_bounds(value: dict[str, Any], where: str = "the body") -> None:
    """`check_bounds` for a group object, whose `members` may list up to `MAX_MEMBERS`."""
    for key, item in value.items():
        check_bounds(key, f"an attribute name in {where}")
        limit = MAX_MEMBERS if key.lower() == "members" else MAX_LIST_LENGTH
        check_bounds(item, key, 2, max_items=limit)


def parse_attribute(attribute: Attribute, value: object, where: str) -> Any:
    """`value` validated and canonicalised for `attribute`; None when it is unassigned or empty."""
    if value is None:
        return None
    if attribute == _MANAGER:
        return parse_manager(value, where)
    if attribute.multi_valued:
        items = value if isinstance(value, list) else [value]
        parsed = [_parse_item(attribute, item, f"{where}[{index}]") for index, item in enumerate(items)]
        return [item for item in parsed if item is not None] or None
    if attribute.type == "complex":
        return _parse_complex(attribute, value, where)
    return parse_simple(attribute, value, where)


def parse_simple(attribute: Attribute, value: object, where: str) -> Any:
    """A simple (non-complex) value of `attribute`'s type; booleans also from "true"/"false"."""
    if value is None:
        return None
    if attribute.type == "boolean":
        return parse_boolean(value, where)
    if attribute.type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise invalid_value(f"{where} must be an integer")
    if attribute.type == "decimal":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise invalid_value(f"{where} must be a number")
    if attribute.type == "complex":
        raise invalid_value(f"{where} must be an object")
    if isinstance(value, str):
        return value
    raise invalid_value(f"{where} must be a string")


def parse_boolean(value: object, where: str) -> bool:
    """`true`/`false`, or Entra's strings `"True"`/`"False"` (any case), as a real boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_value(f'{where} must be a boolean (true, false, "True" or "False")')


def parse_manager(value: object, where: str) -> dict[str, Any] | None:
    """Entra's manager shapes as `{"value": id}` (plus `displayName` when sent); None when empty.

    Accepted: a bare id string, `{"value": id}`, `{"value": id, "$ref": uri}`, or a one-element
    list of those. `$ref` is not stored (the store derives it from the id).
    """
    if isinstance(value, list):
        present = [item for item in value if item is not None]
        if len(present) > 1:
            raise invalid_value(f"{where} must be a single manager, not a list of {len(present)}")
        value = present[0] if present else None
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return {"value": value}
    if not isinstance(value, dict):
        raise invalid_value(f"{where} must be a user id or an object with a value")
    manager_id = _find(value, "value")
    display_name = _find(value, "displayName")
    if manager_id is not None and not isinstance(manager_id, str):
        raise invalid_value(f"{where}.value must be a string")
    if display_name is not None and not isinstance(display_name, str):
        raise invalid_value(f"{where}.displayName must be a string")
    if not manager_id:
        return None
    return (
        {"value": manager_id} if display_name is None else {"value": manager_id, "displayName": display_name}
    )


def is_custom_schema(urn: str) -> bool:
    """True for a URN that can name a custom extension: none of our schemas, not RFC-reserved."""
    folded = urn.lower()
    return (
        folded.startswith("urn:")
        and folded not in _ALL_SCHEMA_IDS
        and not folded.startswith(_RESERVED_URN_PREFIXES)
    )


def is_schema_urn(text: str) -> bool:
    """True for one of our schema ids, or a custom extension URN ending in `:User` or `:Group`."""
    if text.lower() in _ALL_SCHEMA_IDS:
        return True
    return is_custom_schema(text) and text.rpartition(":")[2].lower() in ("user", "group")


def find_key(container: dict[str, Any], key: str) -> str:
    """The key of `container` equal to `key` in any case, else `key` itself."""
    if key in container:
        return key
    folded = key.lower()
    return next((k for k in container if k.lower() == folded), key)


def _place(doc: dict[str, Any], key: str, value: object, resource: ResourceName) -> None:
    """Put the body member `key: value` into `doc`, canonicalised, or drop it."""
    core = RESOURCE_SCHEMAS[resource][0]
    if key.lower() == "schemas":
        return
    schema = schema_by_id(key, resource)
    if schema is not None:
        _place_schema_object(doc, schema, value, key, core=schema is core)
        return
    if key.lower().startswith("urn:"):
        prefix, _, name = key.rpartition(":")
        qualified = schema_by_id(prefix, resource)
        if qualified is not None:  # `urn:…:enterprise:2.0:User:employeeNumber` as a top-level key
            _place_schema_object(doc, qualified, {name: value}, prefix, core=qualified is core)
        elif is_custom_schema(key) and (value is None or isinstance(value, dict) or is_schema_urn(key)):
            _place_custom(doc, key, value)
        elif is_custom_schema(prefix):  # `urn:…:Custom:2.0:User:attr` as a top-level key
            _place_custom(doc, prefix, {name: value})
        return
    attribute = common_attribute(key) or core.attribute(key)
    if attribute is not None:
        _place_attribute(doc, attribute, value, attribute.name)


def _place_schema_object(
    doc: dict[str, Any], schema: Schema, value: object, where: str, *, core: bool
) -> None:
    """Merge the object `value` of `schema`'s attributes: at the top level for the core schema."""
    if value is None:
        if not core:
            doc.pop(schema.id, None)
        return
    if not isinstance(value, dict):
        raise invalid_value(f"{where} must be an object")
    container: dict[str, Any] = doc if core else dict(doc.get(schema.id) or {})
    for name, item in value.items():
        attribute = (common_attribute(name) if core else None) or schema.attribute(name)
        if attribute is not None:
            qualified = attribute.name if core else f"{schema.id}:{attribute.name}"
            _place_attribute(container, attribute, item, qualified)
    if not core:
        if container:
            doc[schema.id] = container
        else:
            doc.pop(schema.id, None)


def _place_custom(doc: dict[str, Any], urn: str, value: object) -> None:
    if value is not None and not isinstance(value, dict):
        raise invalid_value(f"{urn} must be an object")
    key = find_key(doc, urn)
    merged = dict(doc.get(key) or {})
    merged.update(value if isinstance(value, dict) else {})
    cleaned = {k: v for k, v in merged.items() if v is not None and v not in ([], {})}
    if cleaned:
        doc[key] = cleaned
    else:
        doc.pop(key, None)


def _place_attribute(container: dict[str, Any], attribute: Attribute, value: object, where: str) -> None:
    if attribute.mutability == "readOnly":
        return
    parsed = parse_attribute(attribute, value, where)
    if parsed is None:
        container.pop(attribute.name, None)
    else:
        container[attribute.name] = parsed


def _parse_item(attribute: Attribute, item: object, where: str) -> Any:
    if item is None:
        return None
    if attribute.name == "roles":
        item = _unstringify_role(item, where)
    return _parse_complex(attribute, item, where)


def _parse_complex(attribute: Attribute, value: object, where: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        raise invalid_value(f"{where} must be an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = attribute.sub(key)
        if sub is None or sub.mutability == "readOnly":
            continue
        parsed = parse_simple(sub, item, f"{where}.{sub.name}")
        if parsed is None:
            out.pop(sub.name, None)
        else:
            out[sub.name] = parsed
    return out or None


def _unstringify_role(item: object, where: str) -> object:
    """Entra's role quirk: `{"value": "{\\"id\\":…,\\"value\\":\\"25\\",\\"displayName\\":…}"}`.

    The stringified object's members become the role's (`displayName` becomes `display`); the
    item's other members win. Unknown members such as the app role `id` are then dropped.
    """
    for _ in range(MAX_DEPTH + 1):
        if not isinstance(item, dict):
            return item
        value_key = find_key(item, "value")
        inner = _json_object(item.get(value_key))
        if inner is None:
            return item
        check_bounds(inner, f"{where}.value")
        role = {("display" if k.lower() == "displayname" else k): v for k, v in inner.items()}
        item = {**role, **{k: v for k, v in item.items() if k != value_key}}
    raise invalid_value(f"{where}.value nests stringified JSON too deeply")


def _json_object(text: object) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _find(item: dict[str, Any], name: str) -> Any:
    return item.get(find_key(item, name))


__all__ = [
    "MAX_DEPTH",
    "MAX_LIST_LENGTH",
    "MAX_MEMBERS",
    "MAX_STRING_LENGTH",
    "check_bounds",
    "check_group_bounds",
    "find_key",
    "is_custom_schema",
    "is_schema_urn",
    "parse_attribute",
    "parse_boolean",
    "parse_group",
    "parse_manager",
    "parse_member_ids",
    "parse_simple",
    "parse_user",
]
