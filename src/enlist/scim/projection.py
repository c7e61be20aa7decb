"""`attributes=` and `excludedAttributes=` (RFC 7644 §3.4.2.5) applied to a full SCIM resource.

`project` takes the representation about to be returned (with `schemas`, `id`, `meta`, and for
groups `members`) and returns a new dict; the input is not changed. The rules:

- `id` and `schemas` always stay (`id` is the only `returned: always` attribute; a resource
  without `schemas` is not SCIM). `returned: never` attributes (`password`) never appear.
- With `attributes`, only the named attributes stay. `name.givenName` keeps `name` with only
  that sub-attribute; `emails.value` keeps each email with only its `value`. Paths may be
  URN-qualified (`urn:…:enterprise:2.0:User:manager`), unqualified extension attributes
  (`employeeNumber`) are found under their extension, and a bare extension URN keeps its whole
  object. Names that match nothing are ignored.
- `excludedAttributes` then drops the named attributes or sub-attributes, the same way.
- Names compare case-insensitively.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Final

from enlist.scim.filter_ast import AttrPath
from enlist.scim.schema import RESOURCE_SCHEMAS, ResourceName, resolve, schema_by_id

if TYPE_CHECKING:
    from collections.abc import Iterable

_ALWAYS = frozenset({"id", "schemas"})
_MISSING: Final = object()

Selection = dict[tuple[str, ...], frozenset[str] | None]
"""Key paths in the document to their selected sub-attributes (folded), None for all of it."""


def project(
    doc: dict[str, Any],
    resource: ResourceName,
    attributes: list[AttrPath] | None,
    excluded: list[AttrPath] | None,
) -> dict[str, Any]:
    """`doc` with only the `attributes` asked for, without the `excluded` ones and `password`."""
    never = [
        AttrPath(schema.id, attribute.name)
        for schema in RESOURCE_SCHEMAS[resource]
        for attribute in schema.attributes
        if attribute.returned == "never"
    ]
    result = doc
    if attributes:
        selection = _selection(doc, attributes, resource)
        result = {}
        for key, value in doc.items():
            kept = value if key.lower() in _ALWAYS else _keep(value, (key,), selection)
            if kept is not _MISSING:
                result[key] = kept
    dropped = _selection(doc, [*(excluded or []), *never], resource)
    return dict(_omit_items(result, (), dropped))


def _selection(doc: dict[str, Any], paths: Iterable[AttrPath], resource: ResourceName) -> Selection:
    selection: Selection = {}
    for path in paths:
        located = _locate(doc, path, resource)
        if located is None:
            continue
        keys, sub = located
        if len(keys) == 1 and keys[0].lower() in _ALWAYS:
            continue
        previous = selection.get(keys, frozenset())
        if sub is None or previous is None:
            selection[keys] = None
        else:
            selection[keys] = previous | {sub}
    return selection


def _locate(
    doc: dict[str, Any], path: AttrPath, resource: ResourceName
) -> tuple[tuple[str, ...], str | None] | None:
    """The key path of the attribute `path` names in `doc`, and its folded sub-attribute."""
    container_keys: tuple[str, ...] = ()
    if path.schema is not None:
        whole = _key(doc, f"{path.schema}:{path.name}")
        if whole is not None and path.sub is None:
            return (whole,), None
        if schema_by_id(path.schema, resource) is not RESOURCE_SCHEMAS[resource][0]:
            extension = _key(doc, path.schema)
            if extension is None:
                return None
            container_keys = (extension,)
    elif _key(doc, path.name) is None:
        resolved = resolve(AttrPath(None, path.name), resource)
        if resolved is None or not resolved.is_extension:
            return None
        extension = _key(doc, resolved.schema_id)
        if extension is None:
            return None
        container_keys = (extension,)
    container: Any = doc
    for key in container_keys:
        container = container[key]
    if not isinstance(container, dict):
        return None
    name = _key(container, path.name)
    if name is None:
        return None
    return (*container_keys, name), path.sub.lower() if path.sub else None


def _key(container: dict[str, Any], name: str) -> str | None:
    if name in container:
        return name
    folded = name.lower()
    return next((key for key in container if key.lower() == folded), None)


def _keep(value: Any, keys: tuple[str, ...], selection: Selection) -> Any:
    """The selected parts of `value` (found at `keys`), or `_MISSING` when nothing is selected."""
    if keys in selection:
        subs = selection[keys]
        return value if subs is None else _pick_subs(value, subs)
    if not isinstance(value, dict) or not _below(keys, selection):
        return _MISSING
    out = {key: _keep(item, (*keys, key), selection) for key, item in value.items()}
    return {key: item for key, item in out.items() if item is not _MISSING} or _MISSING


def _omit_items(value: dict[str, Any], keys: tuple[str, ...], selection: Selection) -> list[tuple[str, Any]]:
    """The items of `value` (found at `keys`) without the selected parts, as deep copies."""
    items: list[tuple[str, Any]] = []
    for key, item in value.items():
        path = (*keys, key)
        subs = selection.get(path, frozenset())
        if path in selection and subs is None:
            continue
        if subs:
            kept = _drop_subs(item, subs)
        elif isinstance(item, dict) and _below(path, selection):
            kept = dict(_omit_items(item, path, selection)) or _MISSING
        else:
            kept = copy.deepcopy(item)
        if kept is not _MISSING:
            items.append((key, kept))
    return items


def _below(keys: tuple[str, ...], selection: Selection) -> bool:
    return any(selected[: len(keys)] == keys for selected in selection)


def _pick_subs(value: Any, subs: frozenset[str]) -> Any:
    """Only the sub-attributes `subs` of a complex value, or of each element of a list of them."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in subs} or _MISSING
    if isinstance(value, list):
        return [e for e in (_pick_subs(element, subs) for element in value) if e is not _MISSING] or _MISSING
    return _MISSING


def _drop_subs(value: Any, subs: frozenset[str]) -> Any:
    """Without the sub-attributes `subs`, of a complex value or of each element of a list of them."""
    if isinstance(value, dict):
        return {k: copy.deepcopy(v) for k, v in value.items() if k.lower() not in subs} or _MISSING
    if isinstance(value, list):
        return [e for e in (_drop_subs(element, subs) for element in value) if e is not _MISSING] or _MISSING
    return copy.deepcopy(value)
