"""Editing an application's attribute mappings and scoping filters (pure).

Every edit yields a new, validated mapping: a bad expression or target is refused when it is
saved, with the position of the error, and nothing is stored. Like Entra, saving a change to the
mappings or the scoping filters makes the next cycle an initial one, so every managed object is
re-evaluated under the new rules.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from enlist.provisioning.directory.model import SourceUser
from enlist.provisioning.mapping.errors import MappingError
from enlist.provisioning.mapping.expression import evaluate, parse_expression
from enlist.provisioning.mapping.mappings import AttributeMapping, ObjectMapping
from enlist.provisioning.mapping.source import user_source

Kind = Literal["direct", "constant", "expression", "none"]


def with_mapping(mapping: ObjectMapping, row: AttributeMapping) -> ObjectMapping:
    """`mapping` with `row` added, or replacing the row for the same target (case-insensitive)."""
    rows = [r for r in mapping.attributes if r.target.lower() != row.target.lower()]
    if row.matching_precedence is not None:
        # Precedences stay unique: the new row takes its slot, later ones move down.
        rows = [
            dataclasses.replace(r, matching_precedence=r.matching_precedence + 1)
            if r.matching_precedence is not None and r.matching_precedence >= row.matching_precedence
            else r
            for r in rows
        ]
    return ObjectMapping(mapping.object_kind, mapping.enabled, (*rows, row))


def without_mapping(mapping: ObjectMapping, target: str) -> ObjectMapping:
    rows = tuple(r for r in mapping.attributes if r.target.lower() != target.lower())
    if len(rows) == len(mapping.attributes):
        raise MappingError(f"no mapping targets {target!r}", target=target)
    return ObjectMapping(mapping.object_kind, mapping.enabled, rows)


def build_row(
    target: str,
    kind: Kind,
    source: str,
    *,
    on_create: bool = False,
    matching: int | None = None,
    default: str | None = None,
) -> AttributeMapping:
    return AttributeMapping(
        target=target,
        kind=kind,
        source=source,
        apply="on_create" if on_create else "always",
        matching_precedence=matching,
        default_if_null=default,
    )


def describe(mapping: ObjectMapping) -> list[dict[str, Any]]:
    return [
        {
            "target": r.target,
            "kind": r.kind,
            "source": r.source,
            "apply": r.apply,
            "matching_precedence": r.matching_precedence,
            "default_if_null": r.default_if_null,
        }
        for r in mapping.attributes
    ]


def try_expression(text: str, user: SourceUser | None) -> dict[str, Any]:
    """The expression tester: parse `text` and evaluate it for `user` (or report the error)."""
    expression = parse_expression(text)
    if user is None:
        return {"ok": True, "value": None, "note": "parsed; choose a user to see its value"}
    return {"ok": True, "value": evaluate(expression, user_source(user))}
