"""Read a mapped target attribute out of a SCIM resource the target returned (pure).

Used when an existing target object is adopted: the engine compares what the mappings want with
what the object holds, and sends only the differences. Paths are the ones mappings write:
`userName`, `name.givenName`, `emails[type eq "work"].value`, URN-qualified extension paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enlist.scim.filter import FilterSyntaxError, parse_path
from enlist.scim.filter_ast import And, Compare, Filter


def read_path(resource: Mapping[str, Any], path: str) -> Any:
    """The value at `path`, or None when absent or not readable."""
    try:
        parsed = parse_path(path)
    except FilterSyntaxError:
        return None
    container: Any = resource
    if parsed.attr.schema:
        container = _get(resource, parsed.attr.schema)
    value = _get(container, parsed.attr.name)
    if parsed.filter is not None:
        terms = _eq_terms(parsed.filter)
        if terms is None or not isinstance(value, list):
            return None
        for item in value:
            if isinstance(item, Mapping) and all(_same(_get(item, k), v) for k, v in terms.items()):
                return _get(item, parsed.value_sub) if parsed.value_sub else item
        return None
    if parsed.attr.sub:
        return _get(value, parsed.attr.sub)
    if isinstance(value, Mapping) and parsed.attr.name.lower() == "manager":
        return _get(value, "value")
    return value


def _get(container: Any, name: str) -> Any:
    if not isinstance(container, Mapping):
        return None
    lowered = name.lower()
    for key, value in container.items():
        if str(key).lower() == lowered:
            return value
    return None


def _eq_terms(node: Filter) -> dict[str, Any] | None:
    if isinstance(node, Compare) and node.op == "eq":
        return {node.attr.name: node.value}
    if isinstance(node, And):
        left, right = _eq_terms(node.left), _eq_terms(node.right)
        return None if left is None or right is None else {**left, **right}
    return None


def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, str) and isinstance(wanted, str):
        return actual.lower() == wanted.lower()
    return bool(actual == wanted)
