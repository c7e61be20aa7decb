"""What of Entra's exported provisioning configuration maps onto enlist (pure).

Entra's portal exports an application's provisioning configuration ("Export" on the Attribute
Mapping page) as its `synchronizationSchema` (Microsoft Graph): `directories` (the attribute
definitions of each side) and `synchronizationRules`, each with `objectMappings` (one per object
kind: `enabled`, `sourceObjectName`, `targetObjectName`, `attributeMappings`, `scope`). An
`attributeMapping` has `targetAttributeName`, a `source` (`type` Attribute, Constant or Function,
with its `expression` text), `flowType`, `matchingPriority` and `defaultValue`. A `scope` holds
filter `groups` (OR'ed), each with `clauses` (AND'ed) of `sourceOperandName`, `operatorName`
and `targetOperand.values`.

`read_entra_schema(data)` returns the user and group mappings and the user scoping filters it
could read, and a `Skipped` entry (path and reason) for everything it leaves out. It never
guesses: a row it cannot read exactly is skipped, and a scope with any filter group it cannot
read is skipped whole (dropping one group of an OR would narrow it, one clause of an AND would
widen it), so the application keeps its own scoping filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from enlist.document_shape import DocumentError, join
from enlist.provisioning.mapping.errors import MappingError, ScopingError
from enlist.provisioning.mapping.mappings import AttributeMapping, ObjectMapping
from enlist.provisioning.mapping.scoping import OPERATORS, ScopingClause, ScopingFilter, ScopingOperator


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the schema enlist does not read, and why."""

    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class EntraReading:
    """What was read: None where the schema has no object mapping for that kind, and
    `user_scoping` None where the scope was skipped (the application keeps its own)."""

    user_mapping: ObjectMapping | None
    group_mapping: ObjectMapping | None
    user_scoping: tuple[ScopingFilter, ...] | None
    skipped: tuple[Skipped, ...]


_KINDS = {"user": "user", "group": "group"}
_FLOW_TYPES = {"always": "always", "objectaddonly": "on_create"}
_OPERATORS: dict[str, ScopingOperator] = {re.sub(r"[\s_]", "", op).upper(): op for op in OPERATORS}  # type: ignore[misc]


def read_entra_schema(data: Any) -> EntraReading:
    """Read `data` (the parsed JSON of an exported synchronizationSchema); `DocumentError` when
    it is not one at all (no `synchronizationRules` list)."""
    if not isinstance(data, dict) or not isinstance(data.get("synchronizationRules"), list):
        raise DocumentError(
            "synchronizationRules", "missing: this is not an exported Entra synchronizationSchema"
        )
    skipped: list[Skipped] = []
    if data.get("directories"):
        skipped.append(
            Skipped(
                "directories",
                "attribute definitions: enlist's attributes are the SCIM core and enterprise schemas",
            )
        )
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for r, rule in enumerate(data["synchronizationRules"]):
        rule_path = join("synchronizationRules", r)
        mappings = rule.get("objectMappings") if isinstance(rule, dict) else None
        if not isinstance(mappings, list):
            skipped.append(Skipped(rule_path, "a rule without objectMappings"))
            continue
        for m, mapping in enumerate(mappings):
            path = join(join(rule_path, "objectMappings"), m)
            source = str(mapping.get("sourceObjectName", "")) if isinstance(mapping, dict) else ""
            kind = _KINDS.get(source.casefold())
            if kind is None or kind in found:
                why = (
                    "a second mapping for that kind"
                    if kind
                    else f"source object {source!r}: enlist provisions users and groups"
                )
                skipped.append(Skipped(path, why))
                continue
            found[kind] = (path, mapping)
    user = _object_mapping("user", found.get("user"), skipped)
    group = _object_mapping("group", found.get("group"), skipped)
    scoping = _scope(found["user"], skipped) if "user" in found else None
    if "group" in found and _has_filters(found["group"][1].get("scope")):
        skipped.append(
            Skipped(join(found["group"][0], "scope"), "enlist's scoping filters apply to users only")
        )
    return EntraReading(user, group, scoping, tuple(skipped))


def _object_mapping(
    kind: str, entry: tuple[str, dict[str, Any]] | None, skipped: list[Skipped]
) -> ObjectMapping | None:
    if entry is None:
        return None
    path, mapping = entry
    flow_types = str(mapping.get("flowTypes") or "Add, Update, Delete")
    if {t.strip().casefold() for t in flow_types.split(",")} != {"add", "update", "delete"}:
        skipped.append(
            Skipped(join(path, "flowTypes"), f"{flow_types!r}: enlist always adds, updates and deletes")
        )
    rows: list[AttributeMapping] = []
    for index, item in enumerate(mapping.get("attributeMappings") or []):
        row_path = join(join(path, "attributeMappings"), index)
        try:
            rows.append(_row(item, row_path, skipped))
        except _Skip as why:
            skipped.append(Skipped(row_path, str(why)))
    enabled = mapping.get("enabled", True)
    try:
        return ObjectMapping(kind, enabled is True, tuple(rows))  # type: ignore[arg-type]
    except MappingError as exc:
        raise DocumentError(path, f"what could be read is not a usable mapping: {exc}") from None


class _Skip(Exception):  # noqa: N818 (a control-flow signal, its message the reason)
    """This row cannot be read exactly."""


def _row(item: Any, path: str, skipped: list[Skipped]) -> AttributeMapping:
    if not isinstance(item, dict) or not isinstance(item.get("targetAttributeName"), str):
        raise _Skip("not an attributeMapping with a targetAttributeName")
    target = item["targetAttributeName"]
    flow = str(item.get("flowType") or "Always")
    apply = _FLOW_TYPES.get(flow.casefold())
    if apply is None:
        raise _Skip(f"flowType {flow}: enlist applies a mapping always or on create only")
    if str(item.get("flowBehavior") or "FlowWhenChanged") != "FlowWhenChanged":
        skipped.append(
            Skipped(
                join(path, "flowBehavior"), f"{item['flowBehavior']}: enlist sends a value when it changed"
            )
        )
    priority = item.get("matchingPriority") or 0
    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 0:
        raise _Skip(f"matchingPriority {priority!r} is not a whole number")
    default = item.get("defaultValue") or None
    kind, source = _source(item.get("source"))
    try:
        return AttributeMapping(
            target,
            kind,  # type: ignore[arg-type]
            source,
            apply=apply,  # type: ignore[arg-type]
            matching_precedence=priority or None,
            default_if_null=default if kind != "none" or default else None,
        )
    except MappingError as exc:
        raise _Skip(str(exc)) from None


def _source(source: Any) -> tuple[str, str]:
    """(kind, source text) of an attributeMappingSource; a missing source is Entra's None."""
    if source is None:
        return "none", ""
    if not isinstance(source, dict):
        raise _Skip("its source is not an attributeMappingSource")
    kind = str(source.get("type") or "Attribute")
    name = source.get("name")
    if kind == "Attribute" and isinstance(name, str) and name:
        return "direct", name
    if kind == "Constant" and isinstance(name, str):
        return "constant", name
    if kind == "Function" and isinstance(source.get("expression"), str):
        return "expression", source["expression"]
    raise _Skip(f"a {kind} source without the name or expression enlist reads")


def _has_filters(scope: Any) -> bool:
    return isinstance(scope, dict) and any(
        scope.get(k) for k in ("groups", "inputFilterGroups", "categoryFilterGroups")
    )


def _scope(entry: tuple[str, dict[str, Any]], skipped: list[Skipped]) -> tuple[ScopingFilter, ...] | None:
    path, mapping = entry
    scope = mapping.get("scope")
    scope_path = join(path, "scope")
    if scope is None:
        return ()
    skipped.extend(
        Skipped(join(scope_path, key), "experimental filter sets enlist does not evaluate")
        for key in ("inputFilterGroups", "categoryFilterGroups")
        if isinstance(scope, dict) and scope.get(key)
    )
    groups = scope.get("groups") if isinstance(scope, dict) else None
    if not isinstance(groups, list):
        skipped.append(
            Skipped(scope_path, "no filter groups list; the application keeps its scoping filters")
        )
        return None
    filters: list[ScopingFilter] = []
    for g, group in enumerate(groups):
        group_path = join(join(scope_path, "groups"), g)
        try:
            filters.append(_filter(group))
        except _Skip as why:
            skipped.append(
                Skipped(
                    group_path,
                    f"{why}; the whole scope is skipped and the application keeps its scoping filters",
                )
            )
            return None
    return tuple(filters)


def _filter(group: Any) -> ScopingFilter:
    if not isinstance(group, dict) or not isinstance(group.get("clauses"), list) or not group["clauses"]:
        raise _Skip("a filter group without clauses")
    clauses = []
    for item in group["clauses"]:
        if not isinstance(item, dict):
            raise _Skip("a clause that is not an object")
        name = str(item.get("operatorName") or "")
        operator = _OPERATORS.get(re.sub(r"[\s_]", "", name).upper())
        if operator is None:
            raise _Skip(f"operator {name!r} has no enlist equivalent")
        values = (item.get("targetOperand") or {}).get("values") or []
        if len(values) > 1:
            tested = f"{item.get('sourceOperandName')} {name}"
            raise _Skip(f"{tested} tests {len(values)} values; enlist's clauses test one")
        try:
            clauses.append(
                ScopingClause(
                    str(item.get("sourceOperandName") or ""), operator, str(values[0]) if values else ""
                )
            )
        except ScopingError as exc:
            raise _Skip(str(exc)) from None
    return ScopingFilter(tuple(clauses), str(group.get("name") or ""))
