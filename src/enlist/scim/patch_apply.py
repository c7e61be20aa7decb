"""Apply one PATCH operation on an attribute (not group `members`) to a working document in place.

`apply_attribute_op` is the engine under `enlist.scim.patch`: RFC 7644 §3.5.2 plus Entra's
quirks. It works on a private copy that the caller owns, writes raw values, and leaves typing,
boolean strings, manager and role shapes to the caller's final `parse_user`/`parse_group`, which
also names any wrong type. Its rules:

- `add` on a single-valued attribute is `replace`; `add` on a multi-valued one appends the items
  not already there; `replace` on a multi-valued one replaces the list; `replace` of a complex
  attribute merges the sub-attributes given (RFC 7644 §3.5.2.3), except `manager`, replaced whole.
- `replace` (or `add` on a single value) with `null`, `""`, `[]` or `{}` clears the target;
  clearing the `value` of filtered elements (`emails[type eq "work"].value`) drops them.
- A filtered path whose filter matches nothing is created from the filter's `eq` terms and the
  value on add/replace (`emails[type eq "work"].value`); `noTarget` when the filter is not
  `eq` terms joined by `and`. Remove with a filter that matches nothing does nothing, so that
  a retried removal (Entra escrows failures) succeeds.
- `remove` with a value on a multi-valued attribute removes the listed items only.
- Read-only attributes modify nothing when they are sent unchanged (Okta echoes the group `id`
  in every path-less rename, authentik the `id`, `schemas` and `meta` of every resource): an
  `id` equal to the resource's id is ignored, at a path (`"path":"id"`) or in a path-less value;
  `meta`, `groups` and other read-only attributes in a path-less value are ignored as PUT ignores
  them. A different `id`, or a read-only target named by a path (`meta.lastModified`,
  `groups`), is `mutability`. An unknown attribute: `invalidPath`. An attribute of a custom
  extension URN (not ours, not reserved) is stored verbatim under that URN key.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from enlist.scim.errors import invalid_path, invalid_value, mutability, no_target
from enlist.scim.filter import FilterSyntaxError, matches, parse_path
from enlist.scim.filter_ast import And, AttrPath, Compare, Filter, PatchPath
from enlist.scim.resource import find_key, is_custom_schema, is_schema_urn, parse_attribute
from enlist.scim.schema import (
    ENTERPRISE_USER_SCHEMA,
    RESOURCE_SCHEMAS,
    Attribute,
    ResourceName,
    resolve,
    schema_by_id,
)

_MANAGER = ENTERPRISE_USER_SCHEMA.attribute("manager")
_EMPTY: tuple[object, ...] = (None, "", [], {})


@lru_cache(maxsize=1024)  # 50,000 operations on one group repeat the same few paths
def parse_patch_path(text: str) -> PatchPath:
    """A PATCH path; a bare schema URN (`urn:…:enterprise:2.0:User`) names that whole object.

    The whole-object path is `PatchPath(AttrPath(None, urn))`: a name that is a URN.
    """
    if is_schema_urn(text):
        return PatchPath(AttrPath(None, text))
    try:
        return parse_path(text)
    except FilterSyntaxError as error:
        raise invalid_path(f'Invalid path "{text}": {error}') from error


def expand_pathless(value: object) -> list[tuple[PatchPath, Any]]:
    """A path-less add/replace value as (path, value) pairs, one per key.

    Keys are paths themselves: plain (`displayName`), dotted (`name.givenName`, Entra's
    `aadOptscim062020` dialect), URN-qualified (`urn:…:enterprise:2.0:User:employeeNumber`), or a
    bare schema URN whose object expands to one pair per attribute in it. `schemas` is skipped.
    """
    if not isinstance(value, dict):
        raise invalid_value("An add or replace without a path needs an object value")
    pairs: list[tuple[PatchPath, Any]] = []
    for key, item in value.items():
        if key.lower() == "schemas":
            continue
        path = parse_patch_path(key)
        if _is_whole_object(path.attr) and isinstance(item, dict):
            pairs += [
                (parse_patch_path(f"{key}:{name}"), inner)
                for name, inner in item.items()
                if name.lower() != "schemas"
            ]
        else:
            pairs.append((path, item))
    return pairs


def apply_attribute_op(
    doc: dict[str, Any],
    op: str,
    path: PatchPath | None,
    value: Any,
    resource: ResourceName,
    *,
    resource_id: str | None = None,
    pathless: bool = False,
) -> None:
    """Apply `op` (`add`, `replace`, `remove`) at `path` to `doc`, in place.

    `resource_id` is the id of the resource patched (None: unknown, so any `id` is a change);
    `pathless` says the path is a key of a path-less operation's value, where read-only
    attributes other than `id` are ignored.
    """
    if path is None:
        if op == "remove":
            raise invalid_path("A remove operation needs a path")
        for key_path, item in expand_pathless(value):
            apply_attribute_op(doc, op, key_path, item, resource, resource_id=resource_id, pathless=True)
        return
    attr = path.attr
    if _is_whole_object(attr):
        _apply_whole_object(doc, op, attr.name, value, resource, resource_id=resource_id)
        return
    resolved = resolve(attr, resource)
    if resolved is None:
        if attr.schema is not None and is_custom_schema(attr.schema):
            _apply_custom(doc, op, path, value)
            return
        raise invalid_path(f'"{_text(path)}" is not a {resource} attribute')
    attribute, sub = resolved.attribute, resolved.sub_attribute
    value_sub = None
    if path.value_sub is not None:
        value_sub = attribute.sub(path.value_sub)
        if value_sub is None:
            raise invalid_path(f'"{_text(path)}": {attribute.name} has no sub-attribute {path.value_sub}')
    if _unchanged_read_only(
        op, (attribute, sub, value_sub), value, resource_id=resource_id, pathless=pathless
    ):
        return
    for target in (attribute, sub, value_sub):
        if target is not None and target.mutability == "readOnly":
            raise mutability(f'"{_text(path)}" is read-only')
    if path.filter is not None and attribute.type != "complex":
        raise invalid_path(f'"{_text(path)}": only complex attributes take a value filter')
    container = doc
    if resolved.is_extension:
        extension = doc.get(resolved.schema_id)
        container = extension if isinstance(extension, dict) else {}
        doc[resolved.schema_id] = container
    if path.filter is not None:
        _apply_filtered(container, op, attribute, path.filter, value_sub=value_sub, value=value)
    elif attribute == _MANAGER:
        _apply_manager(container, op, sub, value)
    elif sub is not None:
        _apply_sub(container, op, attribute, sub, value)
    else:
        _apply_whole(container, op, attribute, value)
    if resolved.is_extension and not container:
        doc.pop(resolved.schema_id, None)


def _unchanged_read_only(
    op: str, targets: tuple[Attribute | None, ...], value: Any, *, resource_id: str | None, pathless: bool
) -> bool:
    """Whether the operation names a read-only attribute without changing it (RFC 7644 §3.5.2
    forbids modifying one; sending it back unchanged modifies nothing). `targets` are the
    attribute, then the sub-attribute and value-filter sub-attribute the path names."""
    if op == "remove" or not any(t is not None and t.mutability == "readOnly" for t in targets):
        return False
    if targets[0] is not None and targets[0].name == "id":
        return resource_id is not None and value == resource_id
    # Only the id can be compared here; `meta` and `groups` are the server's to say, and a
    # path-less value that carries them is a copy of the resource sent back (as a PUT is).
    return pathless


def _is_whole_object(attr: AttrPath) -> bool:
    return attr.schema is None and attr.name.lower().startswith("urn:")


def _clears(op: str, value: object) -> bool:
    return op == "remove" or any(value is empty or value == empty for empty in _EMPTY)


def _apply_whole_object(
    doc: dict[str, Any], op: str, urn: str, value: Any, resource: ResourceName, *, resource_id: str | None
) -> None:
    schema = schema_by_id(urn, resource)
    if schema is None and not is_custom_schema(urn):
        raise invalid_path(f'"{urn}" is not a schema of a {resource}')
    core = schema is RESOURCE_SCHEMAS[resource][0]
    if _clears(op, value):
        if core:
            raise invalid_path(f'"{urn}" names the whole resource, which cannot be removed')
        doc.pop(find_key(doc, schema.id if schema else urn), None)
        return
    if not isinstance(value, dict):
        raise invalid_value(f"{urn} must be an object")
    for name, item in value.items():
        if name.lower() == "schemas":  # scim2-tester sends the extension with its own `schemas`
            continue
        apply_attribute_op(
            doc, op, parse_patch_path(f"{urn}:{name}"), item, resource, resource_id=resource_id, pathless=True
        )


def _apply_custom(doc: dict[str, Any], op: str, path: PatchPath, value: Any) -> None:
    """An attribute of a custom extension: stored verbatim under its URN key."""
    attr = path.attr
    if path.filter is not None:
        raise invalid_path(f'"{_text(path)}": value filters are not supported on custom extension attributes')
    assert attr.schema is not None
    key = find_key(doc, attr.schema)
    extension = dict(doc.get(key) or {})
    name = find_key(extension, attr.name)
    if attr.sub is None:
        _set_or_clear(extension, name, op, value)
    else:
        parent = extension.get(name)
        parent = dict(parent) if isinstance(parent, dict) else {}
        _set_or_clear(parent, find_key(parent, attr.sub), op, value)
        _set_or_clear(extension, name, "add", parent)
    _set_or_clear(doc, key, "add", extension)


def _set_or_clear(container: dict[str, Any], key: str, op: str, value: Any) -> None:
    if _clears(op, value):
        container.pop(key, None)
    else:
        container[key] = value


def _apply_manager(container: dict[str, Any], op: str, sub: Attribute | None, value: Any) -> None:
    """Manager in all its shapes; the final parse turns any of them into `{"value": id}`."""
    if sub is None or sub.name == "value":
        _set_or_clear(container, "manager", op, value)
    # `manager.$ref` is derived from the id when the resource is returned: nothing to store.


def _apply_whole(container: dict[str, Any], op: str, attribute: Attribute, value: Any) -> None:
    name = attribute.name
    if op == "remove" and value is not None and attribute.multi_valued:
        listed = parse_attribute(attribute, value, name) or []
        kept = [item for item in container.get(name) or [] if not any(_covers(g, item) for g in listed)]
        _set_or_clear(container, name, "add", kept)
        return
    if _clears(op, value):
        if op != "add" or not attribute.multi_valued:
            container.pop(name, None)
        return
    if attribute.multi_valued:
        items = parse_attribute(attribute, value, name) or []
        if op == "add":
            current = list(container.get(name) or [])
            items = current + [
                item for index, item in enumerate(items) if item not in current + items[:index]
            ]
        _set_or_clear(container, name, "add", items)
    elif attribute.type == "complex" and isinstance(value, dict):
        stored = container.get(name)
        merged: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}  # else replaced
        for key, item in value.items():
            sub = attribute.sub(key)
            if sub is not None and sub.mutability != "readOnly":
                _set_or_clear(merged, sub.name, op, item)
        _set_or_clear(container, name, "add", merged)
    else:
        container[name] = value


def _apply_sub(container: dict[str, Any], op: str, attribute: Attribute, sub: Attribute, value: Any) -> None:
    """`name.givenName`; on a multi-valued attribute (`emails.value`) every element, or a new one."""
    name = attribute.name
    if attribute.multi_valued:
        elements = [dict(e) for e in container.get(name) or []]
        if not elements and not _clears(op, value):
            elements = [{}]
        for element in elements:
            _set_or_clear(element, sub.name, op, value)
        _set_or_clear(container, name, "add", [e for e in elements if e])
        return
    parent = container.get(name)
    parent = dict(parent) if isinstance(parent, dict) else {}
    _set_or_clear(parent, sub.name, op, value)
    _set_or_clear(container, name, "add", parent)


def _apply_filtered(
    container: dict[str, Any],
    op: str,
    attribute: Attribute,
    value_filter: Filter,
    *,
    value_sub: Attribute | None,
    value: Any,
) -> None:
    """`emails[type eq "work"]`, `emails[type eq "work"].value`, `manager[value eq "x"]`."""
    name = attribute.name
    current = container.get(name)
    if attribute.multi_valued:
        elements = [dict(e) if isinstance(e, dict) else e for e in current or []]
    else:
        elements = [dict(current)] if isinstance(current, dict) else []
    hits = [
        i
        for i, element in enumerate(elements)
        if isinstance(element, dict) and matches(value_filter, element)
    ]
    if op == "remove" and value_sub is None:
        elements = [e for i, e in enumerate(elements) if i not in hits]
    elif value_sub is not None and value_sub.name == "value" and _clears(op, value):
        # An email or phone without its value is nothing: clearing the value drops the element.
        elements = [e for i, e in enumerate(elements) if i not in hits]
    elif value_sub is not None:
        if not hits and not _clears(op, value):
            elements.append(_seed(value_filter, attribute))
            hits = [len(elements) - 1]
        for i in hits:
            _set_or_clear(elements[i], value_sub.name, op, value)
    elif not _clears(op, value):
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, dict):
            raise invalid_value(f"{name} elements must be objects")
        if not hits:
            elements.append(_seed(value_filter, attribute))
            hits = [len(elements) - 1]
        for i in hits:
            base = elements[i] if op == "add" else _seed(value_filter, attribute, strict=False)
            elements[i] = {**base, **_canonical_keys(attribute, value)}
    elif op == "replace":
        elements = [e for i, e in enumerate(elements) if i not in hits]
    elements = [e for e in elements if e]
    if attribute.multi_valued:
        _set_or_clear(container, name, "add", elements)
    else:
        _set_or_clear(container, name, "add", elements[0] if elements else None)


def _seed(value_filter: Filter, attribute: Attribute, *, strict: bool = True) -> dict[str, Any]:
    """The element a filter describes: its `eq` terms joined by `and`, as sub-attributes."""
    match value_filter:
        case And(left, right):
            return {**_seed(left, attribute, strict=strict), **_seed(right, attribute, strict=strict)}
        case Compare(attr, "eq", expected) if attr.schema is None and attr.sub is None:
            sub = attribute.sub(attr.name)
            if sub is None:
                raise invalid_path(f"{attribute.name} has no sub-attribute {attr.name}")
            return {} if expected is None else {sub.name: expected}
    if not strict:
        return {}
    raise no_target(
        f"The {attribute.name} filter matches no element, and only eq terms joined by and can create one"
    )


def _canonical_keys(attribute: Attribute, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = attribute.sub(key)
        if sub is not None and sub.mutability != "readOnly" and item is not None:
            out[sub.name] = item
    return out


def _covers(given: dict[str, Any], item: object) -> bool:
    """Whether `item` is what the listed `given` item names: every given sub-attribute equal."""
    return isinstance(item, dict) and all(item.get(k) == v for k, v in given.items())


def _text(path: PatchPath) -> str:
    text = str(path.attr)
    if path.filter is not None:
        text += "[…]"
    if path.value_sub is not None:
        text += f".{path.value_sub}"
    return text
