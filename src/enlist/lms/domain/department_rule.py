"""The department tree rule, pure: which path of departments a value the identity provider sent
stands for, and which departments a set of paths needs (ADR 0034).

A path is a tuple of department names below the tenant's root: `("Sales", "EMEA", "North")`.
The empty path is the root. A value gives a path only when it is text: split on the tenant's
separator, each name stripped of surrounding spaces, empty names dropped. A value too long, too
deep or with a name longer than a department name can be, is no path (the root), so the same
value gives the same answer wherever it is decided, in Python or in SQL.

Resolving a path walks the tree from the root by exact name. A department an admin made is used
where its path matches (preferred over a rule-made one of the same name), and is never renamed,
moved or removed by the rule; missing departments are planned as rule-made ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID

Path = tuple[str, ...]

NAME_LENGTH = 256  # departments.name
VALUE_LENGTH = 600  # department_rule_values.value: a longer value is no path
PAIR_JOINER = "\x1f"  # between division and department in one value (a control character: never in a name)
MAX_DEPTH = 32
SEPARATOR_SHOWN = " \u203a "  # a single right-pointing angle quotation mark
MOVE_ATTRIBUTE = "placed in"
"""The sync log's name for a department move; a space keeps it apart from every SCIM attribute."""

ENTERPRISE_ATTRIBUTES = ("employeeNumber", "costCenter", "organization", "division", "department")


def attribute_path(attribute: str) -> tuple[str, ...]:
    """Where `attribute` sits in a user's document, named as the sync log names it:
    `department` (an Enterprise attribute), `title` or `name.formatted` (core),
    `urn:…:User:orgPath` (an extension's attribute)."""
    if attribute.startswith("urn:") and ":" in attribute[4:]:
        urn, _, name = attribute.rpartition(":")
        return (urn, *name.split("."))
    if attribute in ENTERPRISE_ATTRIBUTES:
        return (ENTERPRISE_USER_SCHEMA_ID, attribute)
    return tuple(attribute.split("."))


def split_path(value: object, separator: str) -> Path:
    """The path a text value names; () (the root) for anything else."""
    if not isinstance(value, str) or len(value) > VALUE_LENGTH:
        return ()
    return _checked(part.strip() for part in value.split(separator))


def pair_path(division: object, department: object) -> Path:
    """The Enterprise extension's `division` then `department`, each one name."""
    texts = [v for v in (division, department) if isinstance(v, str) and len(v) <= VALUE_LENGTH]
    return _checked(v.strip() for v in texts)


def group_path(name: str, prefix: str, separator: str) -> Path | None:
    """The path a group's name gives under the prefix rule (`Dept - Sales - EMEA`), or None for a
    group whose name does not start with the prefix (compared case-insensitively)."""
    head = name[: len(prefix)]
    if head.casefold() != prefix.casefold():
        return None
    return split_path(name[len(prefix) :], separator)


def _checked(names: Iterable[str]) -> Path:
    path = tuple(n for n in names if n)
    if len(path) > MAX_DEPTH or any(len(n) > NAME_LENGTH for n in path):
        return ()
    return path


def pair_of(value: str) -> Path:
    """The path of a `division` + `department` value as the store joins them."""
    division, _, department = value.partition(PAIR_JOINER)
    return pair_path(division, department)


@dataclass(frozen=True, slots=True)
class Department:
    """A department as the rule sees it."""

    id: str
    name: str
    parent_id: str | None
    rule_made: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewDepartment:
    """A department the rule creates (parents come before their children)."""

    id: str
    name: str
    parent_id: str


def resolve_paths(
    existing: Sequence[Department], root_id: str, paths: Iterable[Path], new_id: Callable[[], str]
) -> tuple[dict[Path, str], list[NewDepartment]]:
    """The department of each path, and the departments to create for the missing ones. Among
    siblings of the same name, a hand-made one is preferred, then the oldest, then the lowest id:
    the answer depends on the tree, never on which path was asked first."""
    best: dict[tuple[str | None, str], Department] = {}
    for d in existing:
        key = (d.parent_id, d.name)
        held = best.get(key)
        if held is None or (d.rule_made, d.created_at, d.id) < (held.rule_made, held.created_at, held.id):
            best[key] = d
    children: dict[tuple[str | None, str], str] = {k: d.id for k, d in best.items()}
    resolved: dict[Path, str] = {(): root_id}
    created: list[NewDepartment] = []
    for path in sorted(set(paths)):
        parent = root_id
        for depth, name in enumerate(path, start=1):
            found = children.get((parent, name))
            if found is None:
                found = new_id()
                children[(parent, name)] = found
                created.append(NewDepartment(found, name, parent))
            resolved[path[:depth]] = found
            parent = found
    return resolved, created


def names_of(departments: Sequence[Department], department_id: str | None) -> list[str]:
    """The names from the root down to `department_id` (the root alone: one name); [] when
    the department is unknown."""
    by_id = {d.id: d for d in departments}
    names: list[str] = []
    seen: set[str] = set()
    current = department_id
    while current is not None and current in by_id and current not in seen:
        seen.add(current)
        names.append(by_id[current].name)
        current = by_id[current].parent_id
    return names[::-1]


def shown_path(names: object) -> str:
    """A path as a person reads it: `Sales \u203a EMEA` (the root's name only for the root itself)."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return "" if names is None else str(names)
    return SEPARATOR_SHOWN.join(names[1:] or names)
