"""SCIM list queries and list responses (RFC 7644 §3.4.2), shared by every SCIM endpoint: the
portal's and a push source's on the provisioning service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enlist.scim.errors import invalid_filter, invalid_value
from enlist.scim.filter import FilterSyntaxError, parse_attribute_list, parse_filter
from enlist.scim.filter_ast import AttrPath, Filter
from enlist.web.params import INT64_MAX, Integer, ParameterError

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
DEFAULT_COUNT = 100
MAX_COUNT = 1000


@dataclass(frozen=True, slots=True)
class ListQuery:
    """`filter`, `startIndex`, `count`, `attributes`, `excludedAttributes` of a list or search."""

    filter: Filter | None = None
    start: int = 1
    count: int = DEFAULT_COUNT
    attributes: list[AttrPath] | None = None
    excluded: list[AttrPath] | None = None


@dataclass(frozen=True, slots=True)
class Projection:
    attributes: list[AttrPath] | None = None
    excluded: list[AttrPath] | None = None

    def wants(self, name: str) -> bool:
        """Whether the response needs top-level attribute `name` (so we can skip reading it)."""
        lowered = name.lower()
        if self.attributes:
            return any(a.name.lower() == lowered and a.schema is None for a in self.attributes)
        return not any(a.name.lower() == lowered and a.sub is None for a in self.excluded or [])


def parse_list_query(
    filter_text: str | None,
    start: str | int | None,
    count: str | int | None,
    attributes: str | list[str] | None,
    excluded: str | list[str] | None,
) -> ListQuery:
    """Read list parameters the way RFC 7644 §3.4.2 asks, leniently where it allows: a start
    below 1 is 1, a negative count is 0, a count above the maximum is the maximum."""
    tree: Filter | None = None
    if filter_text is not None and not isinstance(filter_text, str):
        raise invalid_filter("filter must be a string")
    if filter_text is not None and filter_text.strip():
        try:
            tree = parse_filter(filter_text)
        except FilterSyntaxError as exc:
            raise invalid_filter(f"invalid filter: {exc}") from None
    return ListQuery(
        filter=tree,
        start=max(1, _integer(start, "startIndex", 1)),
        count=min(MAX_COUNT, max(0, _integer(count, "count", DEFAULT_COUNT))),
        attributes=_attribute_list(attributes, "attributes"),
        excluded=_attribute_list(excluded, "excludedAttributes"),
    )


# RFC 7644 §3.4.2.4 reads a start below 1 as 1 and a negative count as 0 (parse_list_query
# clamps); past these bounds a number is not a page, and the database could not take it.
START_INDEX = Integer(-INT64_MAX, 2**31 - 1)
COUNT = Integer(-INT64_MAX, INT64_MAX)


def _integer(value: str | int | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    kind = START_INDEX if name == "startIndex" else COUNT
    try:
        if isinstance(value, str):
            return kind.parse(name, value)
        if isinstance(value, int):
            return kind.bound(name, value)  # refuses a bool
    except ParameterError as exc:
        raise invalid_value(str(exc)) from None
    raise invalid_value(f"{name} must be {kind.allowed}, not {value!r}")


def _attribute_list(value: str | list[str] | None, name: str) -> list[AttrPath] | None:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ",".join(value)
    elif isinstance(value, str):
        text = value
    else:
        raise invalid_value(f"{name} must be a string or a list of strings")
    try:
        return parse_attribute_list(text) or None
    except FilterSyntaxError as exc:
        raise invalid_value(f"{name}: {exc}") from None


def list_response(total: int, start: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
