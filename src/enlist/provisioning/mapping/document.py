"""Build the SCIM document Entra POSTs from mapped values keyed by target path.

`to_document({"userName": "a", "name.givenName": "A", 'emails[type eq "work"].value': "a@x"})`
gives `{"schemas": [...], "userName": "a", "name": {"givenName": "A"}, "emails": [{"type":
"work", "primary": True, "value": "a@x"}], "meta": {"resourceType": "User"}}`. The rules:

- A dotted path (`name.givenName`) nests under its attribute.
- A URN-qualified path goes under its schema's key (`urn:…:enterprise:2.0:User`: {...}); a path
  of the core schema's URN goes to the top level; an unknown (custom) URN gets its own key.
- A value-filtered path (`emails[type eq "work"].value`) finds or creates the list element with
  those sub-attribute values. The first `work` element of `emails` and `addresses` is marked
  `"primary": true`, as Entra's bodies show (entra-scim.md §2.3); phone numbers are not.
- Attribute names take their RFC spelling when the schema knows them, else stay as written.
- `manager` given as an id becomes `{"value": id}`; a multi-valued complex attribute given as a
  list of ids (`members`) becomes `[{"value": id}, …]`. The target client's dialect may send
  other shapes; this is the RFC one every SCIM service accepts.
- `schemas` is the core and enterprise URNs for users (Entra lists the extension even when no
  enterprise attribute is set), the core and Entra's ADSCIM URNs for groups; custom extension
  URNs are not listed (Entra does not). `meta.resourceType` is set, as Entra sends it.

Raises `MappingError` for a path that does not parse, a filter other than `sub eq value`
comparisons joined by `and`, or two paths that put different shapes at one place.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Literal

from enlist.provisioning.mapping.errors import MappingError
from enlist.scim.filter import FilterSyntaxError, parse_path
from enlist.scim.filter_ast import And, AttrPath, Compare, Filter, PatchPath
from enlist.scim.schema import (
    ENTERPRISE_USER_SCHEMA_ID,
    ENTRA_GROUP_SCHEMA_ID,
    GROUP_SCHEMA_ID,
    USER_SCHEMA_ID,
    Attribute,
    ResolvedAttribute,
    ResourceName,
    resolve,
    schema_by_id,
)

ObjectKind = Literal["user", "group"]

_SCHEMAS: dict[ObjectKind, list[str]] = {
    "user": [USER_SCHEMA_ID, ENTERPRISE_USER_SCHEMA_ID],
    "group": [GROUP_SCHEMA_ID, ENTRA_GROUP_SCHEMA_ID],
}
_PRIMARY_WORK = frozenset({"emails", "addresses"})


def resource_name(object_kind: ObjectKind) -> ResourceName:
    return "User" if object_kind == "user" else "Group"


@functools.lru_cache(maxsize=1024)
def parse_target(target: str) -> PatchPath:
    """The target path `target` parsed; raises `MappingError` when it is not a SCIM path.

    Remembered: a cycle places every mapping's target for every user, and the few targets an
    administrator writes would otherwise be parsed again each time (the syntax tree is frozen)."""
    try:
        return parse_path(target)
    except FilterSyntaxError as exc:
        raise MappingError(f'target "{target}" is not a SCIM attribute path: {exc}', target=target) from None


def target_attribute(path: PatchPath, object_kind: ObjectKind) -> ResolvedAttribute | None:
    """What `path` names in the object's schemas (its sub-attribute for `attr[…].sub`), or None."""
    sub = path.attr.sub or path.value_sub
    return resolve(AttrPath(path.attr.schema, path.attr.name, sub), resource_name(object_kind))


def to_document(flat: Mapping[str, Any], *, object_kind: ObjectKind = "user") -> dict[str, Any]:
    """The nested SCIM document for the mapped values `flat` (see the module docstring)."""
    doc: dict[str, Any] = {"schemas": list(_SCHEMAS[object_kind])}
    for target, value in flat.items():
        _place(doc, target, value, object_kind)
    doc["meta"] = {"resourceType": resource_name(object_kind)}
    return doc


def _place(doc: dict[str, Any], target: str, value: Any, object_kind: ObjectKind) -> None:
    path = parse_target(target)
    resolved = resolve(AttrPath(path.attr.schema, path.attr.name), resource_name(object_kind))
    attribute = resolved.attribute if resolved else None
    container = _container(doc, path.attr, resolved, object_kind, target)
    name = attribute.name if attribute else path.attr.name
    if path.filter is not None:
        element = _element(container, name, path.filter, attribute, target)
        sub = path.value_sub or "value"
        _set(element, _sub_name(attribute, sub), value, target)
    elif path.attr.sub is not None:
        parent = container.setdefault(name, {})
        if not isinstance(parent, dict):
            raise MappingError(
                f'target "{target}" nests under {name}, which is already a value', target=target
            )
        _set(parent, _sub_name(attribute, path.attr.sub), value, target)
    else:
        _set(container, name, _shaped(attribute, value), target)


def _container(
    doc: dict[str, Any],
    attr: AttrPath,
    resolved: ResolvedAttribute | None,
    object_kind: ObjectKind,
    target: str,
) -> dict[str, Any]:
    if resolved is not None:
        key = resolved.schema_id if resolved.is_extension else None
    elif attr.schema is not None and schema_by_id(attr.schema, resource_name(object_kind)) is None:
        key = attr.schema  # a custom extension, kept under its URN as written
    else:
        key = None
    if key is None:
        return doc
    container = doc.setdefault(key, {})
    if not isinstance(container, dict):
        raise MappingError(f'target "{target}" nests under {key}, which is already a value', target=target)
    return container


def _sub_name(attribute: Attribute | None, sub: str) -> str:
    known = attribute.sub(sub) if attribute else None
    return known.name if known else sub


def _shaped(attribute: Attribute | None, value: Any) -> Any:
    """Ids for complex attributes with a `value` (manager, members) in RFC shape; else as mapped."""
    if attribute is None or attribute.type != "complex" or attribute.sub("value") is None:
        return value
    if attribute.multi_valued and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [{"value": item} for item in value]
    if not attribute.multi_valued and isinstance(value, str):
        return {"value": value}
    return value


def _set(container: dict[str, Any], name: str, value: Any, target: str) -> None:
    if name in container and container[name] != value:
        raise MappingError(f'target "{target}" sets {name}, which another target already set', target=target)
    container[name] = value


def _element(
    container: dict[str, Any], name: str, value_filter: Filter, attribute: Attribute | None, target: str
) -> dict[str, Any]:
    """The element of the list `container[name]` the filter selects, created when missing."""
    wanted = {
        _sub_name(attribute, sub): _typed_filter_value(attribute, sub, value)
        for sub, value in _equalities(value_filter, target)
    }
    items = container.setdefault(name, [])
    if not isinstance(items, list):
        raise MappingError(
            f'target "{target}" filters {name}, which is already a single value', target=target
        )
    for item in items:
        if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
            return item
    element = dict(wanted)
    if name in _PRIMARY_WORK and wanted.get("type") == "work" and not any(i.get("primary") for i in items):
        element["primary"] = True
    items.append(element)
    return element


def _equalities(value_filter: Filter, target: str) -> list[tuple[str, Any]]:
    if isinstance(value_filter, And):
        return _equalities(value_filter.left, target) + _equalities(value_filter.right, target)
    if (
        isinstance(value_filter, Compare)
        and value_filter.op == "eq"
        and value_filter.attr.schema is None
        and value_filter.attr.sub is None
    ):
        return [(value_filter.attr.name, value_filter.value)]
    raise MappingError(
        f'target "{target}" filters with something other than "sub eq value" joined by "and"', target=target
    )


def _typed_filter_value(attribute: Attribute | None, sub: str, value: Any) -> Any:
    """`primary eq "True"` selects `primary: true`: Entra writes Boolean filter values as strings."""
    known = attribute.sub(sub) if attribute else None
    boolean = known is not None and known.type == "boolean"
    if boolean and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value
