"""The SCIM filter and path syntax tree (RFC 7644 §3.4.2.2, §3.5.2), as frozen dataclasses.

The parser in `enlist.scim.filter` builds these; the portal's store turns them into SQL and the
in-memory matcher evaluates them against documents. Attribute names keep the spelling the client
sent; compare them with `AttrPath.key`, which is case-folded (attribute names are case-insensitive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

CompareOp = Literal["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]
Value: TypeAlias = str | bool | int | float | None


@dataclass(frozen=True, slots=True)
class AttrPath:
    """`[schema:]name[.sub]`, e.g. `name.givenName` or `urn:…:enterprise:2.0:User:manager`.

    `schema` is the URN prefix when the client wrote one (without the trailing colon), else None.
    """

    schema: str | None
    name: str
    sub: str | None = None

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        """Case-folded (schema, name, sub): what two paths must share to name the same attribute."""
        return (
            self.schema.lower() if self.schema else None,
            self.name.lower(),
            self.sub.lower() if self.sub else None,
        )

    def __str__(self) -> str:
        text = f"{self.schema}:{self.name}" if self.schema else self.name
        return f"{text}.{self.sub}" if self.sub else text


@dataclass(frozen=True, slots=True)
class Compare:
    """`attr op value`. `value` is what the client wrote: a JSON literal or an unquoted word."""

    attr: AttrPath
    op: CompareOp
    value: Value


@dataclass(frozen=True, slots=True)
class Present:
    """`attr pr`."""

    attr: AttrPath


@dataclass(frozen=True, slots=True)
class ValueFilter:
    """`attr[filter]`: some element of the multi-valued `attr` satisfies `filter`.

    Inside `filter`, paths name sub-attributes of the element (`type`, `value`, `primary`).
    `emails[type eq "work"].value eq "x"` is parsed as
    `ValueFilter(emails, And(type eq "work", value eq "x"))`.
    """

    attr: AttrPath
    filter: Filter


@dataclass(frozen=True, slots=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Not:
    inner: Filter


Filter: TypeAlias = Compare | Present | ValueFilter | And | Or | Not


@dataclass(frozen=True, slots=True)
class PatchPath:
    """A PATCH `path`: `attr`, `attr[filter]`, or `attr[filter].sub` (RFC 7644 §3.5.2).

    `attr.sub` is set for `name.givenName`; `value_sub` is set for the part after a bracket,
    as in `emails[type eq "work"].value`.
    """

    attr: AttrPath
    filter: Filter | None = None
    value_sub: str | None = None
