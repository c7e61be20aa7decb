"""Smart groups: a named rule on users' attributes, written as a SCIM filter (pure part).

The rule is the filter text an admin typed (`department sw "Sales" and title co "Manager"`),
stored as text and turned into SQL by `enlist.lms.store.smart_groups` each time members are
read, so membership follows every change of a user or of the department tree (ADR 0037).
"""

from __future__ import annotations

from dataclasses import dataclass

from enlist.scim.filter import parse_filter
from enlist.scim.filter_ast import Filter
from enlist.scim.filter_lexer import FilterSyntaxError

NAME_LENGTH = 256


class SmartGroupError(ValueError):
    """A smart group that cannot be saved or found; the message says what to change."""


class UnknownSmartGroupError(SmartGroupError):
    """No smart group of the tenant has this name or id."""


@dataclass(frozen=True, slots=True)
class SmartGroup:
    """A tenant's smart group: its `name` and the SCIM filter `rule` that selects its members."""

    id: int
    name: str
    rule: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class SmartMembership:
    """A smart group a user is in, and the rule that put them there (the reason)."""

    group: SmartGroup

    @property
    def reason(self) -> str:
        return f"member of smart group {self.group.name} because {self.group.rule}"

    def to_json(self) -> dict[str, object]:
        return {**self.group.to_json(), "reason": self.reason}


def checked_name(name: str) -> str:
    """The name trimmed, or `SmartGroupError`."""
    trimmed = name.strip()
    if not trimmed:
        raise SmartGroupError("a smart group has a name")
    if len(trimmed) > NAME_LENGTH:
        raise SmartGroupError(f"a smart group name has at most {NAME_LENGTH} characters")
    return trimmed


def parsed_rule(rule: str) -> Filter:
    """The rule's syntax tree, or `SmartGroupError` saying where it does not parse."""
    try:
        return parse_filter(rule)
    except FilterSyntaxError as exc:
        raise SmartGroupError(f"the rule is not a SCIM filter: {exc}") from None
