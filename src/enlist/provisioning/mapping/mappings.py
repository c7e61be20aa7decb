"""Attribute mappings, Entra's way: what each target attribute gets from the source object.

An `AttributeMapping` is one row of Entra's "Attribute Mapping" page: a `target` SCIM path as
Entra writes it, a `kind` (`direct`: the source attribute `source`; `constant`: the literal
`source`; `expression`: the expression text `source`; `none`: nothing), when it applies
(`always` or `on_create`), its matching precedence, and its "default value if null". Every
mapping is checked when it is built (`validate_mapping`): its expression parses, its target is a
SCIM path. An `ObjectMapping` is the list of them for users or for groups.

`map_object` applies a mapping to one source object (see `enlist.provisioning.mapping.source`
for the dict it reads). Rules callers rely on:

- `on_create` rows only when creating. The default value if null only when creating, and also
  for a `none` row, as Entra's "None" mapping fills an empty target with its default.
- Null results (None, or an empty list) are left out: Entra never sends nulls.
- Boolean targets (`active`, `…primary`) get real booleans ("True"/"False" become True/False);
  a Boolean target mapped to anything else is a `MappingError`. How booleans go on the wire is
  the target dialect's business.
- Reference targets (`manager`, `members`) get the source ids; the engine maps them to target ids.
- Strings are kept exactly as the source has them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from enlist.provisioning.mapping.document import (
    ObjectKind,
    parse_target,
    target_attribute,
    to_document,
)
from enlist.provisioning.mapping.errors import EvaluationError, ExpressionError, MappingError
from enlist.provisioning.mapping.expression import Expression, evaluate, parse_expression
from enlist.provisioning.mapping.values import lookup, show
from enlist.scim.filter_ast import PatchPath

__all__ = [
    "AttributeMapping",
    "MappingError",
    "ObjectKind",
    "ObjectMapping",
    "default_group_mapping",
    "default_user_mapping",
    "map_object",
    "mapped_value",
    "mapping_from_json",
    "mapping_to_json",
    "to_document",
    "validate_mapping",
]

MappingKind = Literal["direct", "constant", "expression", "none"]
ApplyWhen = Literal["always", "on_create"]


@dataclass(frozen=True, slots=True)
class AttributeMapping:
    """One target attribute's mapping; built valid or not at all (`MappingError`)."""

    target: str
    kind: MappingKind
    source: str
    apply: ApplyWhen = "always"
    matching_precedence: int | None = None
    default_if_null: str | None = None
    _expression: Expression | None = field(default=None, init=False, repr=False, compare=False)
    _path: PatchPath | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        validate_mapping(self)

    @property
    def expression(self) -> Expression | None:
        """The parsed expression of an `expression` mapping, else None."""
        return self._expression

    @property
    def path(self) -> PatchPath:
        """The parsed target path."""
        assert self._path is not None  # set by validate_mapping during construction
        return self._path


def validate_mapping(mapping: AttributeMapping) -> AttributeMapping:
    """`mapping` itself when it is valid, else `MappingError` naming the target and the fault.

    Checks: `kind` and `apply` are known words; `target` is a SCIM path (`parse_path`); a
    `direct` source is a non-empty attribute name; an `expression` source parses (the error's
    `position` is the offset in the expression); a `none` mapping has no source and no
    matching precedence; a matching precedence is a whole number of 1 or more. Construction
    calls this, so every `AttributeMapping` in existence has passed it.
    """
    target = mapping.target
    if not isinstance(target, str) or not target:
        raise MappingError("a mapping needs a target attribute path", target=str(target))
    if mapping.kind not in get_args(MappingKind):
        raise MappingError(f'mapping for "{target}": unknown kind "{mapping.kind}"', target=target)
    if mapping.apply not in get_args(ApplyWhen):
        raise MappingError(f'mapping for "{target}": unknown apply "{mapping.apply}"', target=target)
    if not isinstance(mapping.source, str):
        raise MappingError(f'mapping for "{target}": the source must be text', target=target)
    precedence = mapping.matching_precedence
    if precedence is not None and (
        isinstance(precedence, bool) or not isinstance(precedence, int) or precedence < 1
    ):
        raise MappingError(f'mapping for "{target}": matching precedence must be 1 or more', target=target)
    if mapping.default_if_null is not None and not isinstance(mapping.default_if_null, str):
        raise MappingError(f'mapping for "{target}": the default value must be text', target=target)
    object.__setattr__(mapping, "_path", parse_target(target))
    if mapping.kind == "direct" and (not mapping.source or mapping.source.strip() != mapping.source):
        raise MappingError(
            f'mapping for "{target}": a direct mapping needs a source attribute name', target=target
        )
    if mapping.kind == "none" and (mapping.source or precedence is not None):
        raise MappingError(
            f'mapping for "{target}": a "none" mapping has no source and cannot match objects', target=target
        )
    if mapping.kind == "expression":
        try:
            object.__setattr__(mapping, "_expression", parse_expression(mapping.source))
        except ExpressionError as exc:
            raise MappingError(
                f'mapping for "{target}": {exc}', target=target, position=exc.position
            ) from None
    return mapping


@dataclass(frozen=True, slots=True)
class ObjectMapping:
    """The mappings of one object kind. Targets are unique (case-insensitively), matching
    precedences too, and an enabled mapping has at least one matching attribute."""

    object_kind: ObjectKind
    enabled: bool
    attributes: tuple[AttributeMapping, ...]

    def __post_init__(self) -> None:
        if self.object_kind not in ("user", "group"):
            raise MappingError(f'unknown object kind "{self.object_kind}"')
        object.__setattr__(self, "attributes", tuple(self.attributes))
        targets: set[str] = set()
        precedences: set[int] = set()
        for mapping in self.attributes:
            if not isinstance(mapping, AttributeMapping):
                raise MappingError(f"{mapping!r} is not an AttributeMapping")
            if mapping.target.casefold() in targets:
                raise MappingError(f'"{mapping.target}" is mapped twice', target=mapping.target)
            targets.add(mapping.target.casefold())
            if mapping.matching_precedence is not None:
                if mapping.matching_precedence in precedences:
                    raise MappingError(
                        f"matching precedence {mapping.matching_precedence} is used twice",
                        target=mapping.target,
                    )
                precedences.add(mapping.matching_precedence)
        if self.enabled and not precedences:
            raise MappingError(f"the {self.object_kind} mapping needs a matching attribute")

    def matching(self) -> tuple[AttributeMapping, ...]:
        """The matching attributes, in matching precedence order (1 first)."""
        matching = [m for m in self.attributes if m.matching_precedence is not None]
        return tuple(sorted(matching, key=lambda m: m.matching_precedence or 0))


def _new_guid() -> str:
    return str(uuid.uuid4())


def map_object(
    mapping: ObjectMapping,
    source: Mapping[str, Any],
    *,
    creating: bool,
    new_guid: Callable[[], str] = _new_guid,
) -> dict[str, Any]:
    """`{target path: value}` for `source` (see the module docstring for the rules).

    Raises `MappingError` (with the target) when an expression cannot be evaluated for this
    object or a Boolean target gets a non-Boolean; the engine logs it as this object's failure.
    """
    mapped: dict[str, Any] = {}
    for row in mapping.attributes:
        if row.apply == "on_create" and not creating:
            continue
        value = mapped_value(row, source, new_guid=new_guid)
        if _is_null(value) and creating and row.default_if_null is not None:
            value = row.default_if_null
        if _is_null(value):
            continue
        mapped[row.target] = _typed(row, mapping.object_kind, value)
    return mapped


def mapped_value(
    row: AttributeMapping, source: Mapping[str, Any], *, new_guid: Callable[[], str] = _new_guid
) -> Any:
    """The raw value `row` gives for `source`, before defaults and typing (None for `none`).

    This is also the value to match with: the engine queries the target for a matching
    attribute's `mapped_value`."""
    if row.kind == "direct":
        value = lookup(source, row.source)
        return list(value) if isinstance(value, list | tuple) else value
    if row.kind == "constant":
        return row.source
    if row.kind == "expression":
        assert row.expression is not None
        try:
            return evaluate(row.expression, source, new_guid=new_guid)
        except EvaluationError as exc:
            raise MappingError(f'mapping for "{row.target}": {exc}', target=row.target) from None
    return None


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, list) and not value)


def _typed(row: AttributeMapping, object_kind: ObjectKind, value: Any) -> Any:
    resolved = target_attribute(row.path, object_kind)
    named = resolved.sub_attribute or resolved.attribute if resolved else None
    if named is None or named.type != "boolean" or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise MappingError(
        f'"{row.target}" is a Boolean attribute, but its mapping gave {show(value)}', target=row.target
    )


def _attribute_to_json(row: AttributeMapping) -> dict[str, Any]:
    return {
        "target": row.target,
        "kind": row.kind,
        "source": row.source,
        "apply": row.apply,
        "matching_precedence": row.matching_precedence,
        "default_if_null": row.default_if_null,
    }


def mapping_to_json(mapping: ObjectMapping) -> dict[str, Any]:
    """`mapping` as JSON-ready data; `mapping_from_json` gives back an equal mapping."""
    return {
        "object_kind": mapping.object_kind,
        "enabled": mapping.enabled,
        "attributes": [_attribute_to_json(row) for row in mapping.attributes],
    }


_ATTRIBUTE_KEYS = frozenset({"target", "kind", "source", "apply", "matching_precedence", "default_if_null"})


def mapping_from_json(data: Any) -> ObjectMapping:
    """The mapping `mapping_to_json` wrote; `MappingError` for anything else (unknown keys too)."""
    if not isinstance(data, dict) or set(data) != {"object_kind", "enabled", "attributes"}:
        raise MappingError("a stored mapping is an object with object_kind, enabled and attributes")
    if not isinstance(data["enabled"], bool) or not isinstance(data["attributes"], list):
        raise MappingError("a stored mapping's enabled is a boolean and its attributes a list")
    return ObjectMapping(data["object_kind"], data["enabled"], tuple(_rows(data["attributes"])))


def _rows(items: Iterable[Any]) -> Iterable[AttributeMapping]:
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not {"target", "kind", "source"} <= set(item) <= _ATTRIBUTE_KEYS:
            raise MappingError(f"stored attribute mapping {index} has missing or unknown keys")
        yield AttributeMapping(**item)


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

_DEFAULT_USER_ROWS: tuple[tuple[str, MappingKind, str], ...] = (
    ("userName", "direct", "userPrincipalName"),
    ("active", "expression", 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'),
    ("displayName", "direct", "displayName"),
    ("title", "direct", "jobTitle"),
    ('emails[type eq "work"].value', "direct", "mail"),
    ("preferredLanguage", "direct", "preferredLanguage"),
    ("name.givenName", "direct", "givenName"),
    ("name.familyName", "direct", "surname"),
    ("name.formatted", "expression", 'Join(" ", [givenName], [surname])'),
    ('addresses[type eq "work"].formatted', "direct", "physicalDeliveryOfficeName"),
    ('addresses[type eq "work"].streetAddress', "direct", "streetAddress"),
    ('addresses[type eq "work"].locality', "direct", "city"),
    ('addresses[type eq "work"].region', "direct", "state"),
    ('addresses[type eq "work"].postalCode', "direct", "postalCode"),
    ('addresses[type eq "work"].country', "direct", "country"),
    ('phoneNumbers[type eq "work"].value', "direct", "telephoneNumber"),
    ('phoneNumbers[type eq "mobile"].value', "direct", "mobile"),
    ('phoneNumbers[type eq "fax"].value', "direct", "facsimileTelephoneNumber"),
    ("externalId", "direct", "mailNickname"),
    (f"{ENTERPRISE}:employeeNumber", "direct", "employeeId"),
    (f"{ENTERPRISE}:department", "direct", "department"),
    (f"{ENTERPRISE}:manager", "direct", "manager"),
)


def default_user_mapping() -> ObjectMapping:
    """Entra's user mapping for a new custom (non-gallery) SCIM app, rows 1-22 of the table in
    entra-scim.md §5.5, in that order: `userName` from `userPrincipalName` matches (precedence 1),
    `active` is the `Switch([IsSoftDeleted], …)` expression, `manager` is a direct reference."""
    rows = tuple(
        AttributeMapping(target, kind, source, matching_precedence=1 if target == "userName" else None)
        for target, kind, source in _DEFAULT_USER_ROWS
    )
    return ObjectMapping("user", enabled=True, attributes=rows)


def default_group_mapping() -> ObjectMapping:
    """Entra's group mapping for a custom SCIM app: `displayName` (matching, precedence 1),
    `objectId` to `externalId`, `members` to `members`."""
    return ObjectMapping(
        "group",
        enabled=True,
        attributes=(
            AttributeMapping("displayName", "direct", "displayName", matching_precedence=1),
            AttributeMapping("externalId", "direct", "objectId"),
            AttributeMapping("members", "direct", "members"),
        ),
    )
