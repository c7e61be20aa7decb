"""SCIM filters as SQL over indexed columns: never an unfiltered answer, never a Python scan.

`user_clause` and `group_clause` turn a parsed filter into a SQLAlchemy boolean expression on the
`users` / `groups` tables. Each filterable attribute maps to a column (case-folded `_ci` columns
for attributes SCIM compares case-insensitively) or to an EXISTS on a side table (emails, group
members). An attribute that is not in the map, or an operator that does not apply to it, is a
400 `invalidFilter` naming it. Values are bound parameters; LIKE wildcards in values are escaped;
a `co`, `sw` or `ew` value longer than `MAX_SUBSTRING_OPERAND` is a 400 naming the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa

from enlist.lms.store.tables import group_members, groups, user_emails, users
from enlist.scim.errors import invalid_filter
from enlist.scim.filter_ast import And, AttrPath, Compare, Filter, Not, Or, Present, Value, ValueFilter
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA_ID, USER_SCHEMA_ID

Kind = Literal["ci", "exact", "bool", "time", "status"]


@dataclass(frozen=True, slots=True)
class Column:
    """A filterable attribute: its SQL column and how values compare."""

    column: sa.ColumnElement[object]
    kind: Kind


USER_COLUMNS: dict[tuple[str, str | None], Column] = {
    ("id", None): Column(users.c.id, "exact"),
    ("username", None): Column(users.c.user_name_ci, "ci"),
    ("externalid", None): Column(users.c.external_id, "exact"),
    ("displayname", None): Column(users.c.display_name_ci, "ci"),
    ("name", "givenname"): Column(users.c.given_name_ci, "ci"),
    ("name", "familyname"): Column(users.c.family_name_ci, "ci"),
    ("title", None): Column(sa.func.lower(users.c.job_title), "ci"),
    ("active", None): Column(users.c.status, "status"),
    ("employeenumber", None): Column(users.c.employee_number, "exact"),
    ("manager", None): Column(users.c.manager_id, "exact"),
    ("manager", "value"): Column(users.c.manager_id, "exact"),
    ("meta", "created"): Column(users.c.created_at, "time"),
    ("meta", "lastmodified"): Column(users.c.updated_at, "time"),
}

GROUP_COLUMNS: dict[tuple[str, str | None], Column] = {
    ("id", None): Column(groups.c.id, "exact"),
    ("displayname", None): Column(groups.c.display_name_ci, "ci"),
    ("externalid", None): Column(groups.c.external_id, "exact"),
    ("meta", "created"): Column(groups.c.created_at, "time"),
    ("meta", "lastmodified"): Column(groups.c.updated_at, "time"),
}

ENTERPRISE_ONLY = {"employeenumber", "manager"}

EMAIL_COLUMNS: dict[str, Column] = {
    "value": Column(user_emails.c.value_ci, "ci"),
    "type": Column(sa.func.lower(user_emails.c.type), "ci"),
    "primary": Column(user_emails.c.is_primary, "bool"),
}


UNIQUE_NAME = {"User": "username", "Group": "displayname"}


def unique_name_lookup(tree: Filter, resource: Literal["User", "Group"]) -> str | None:
    """The value of a filter that names one resource by its unique name, `userName eq "x"` (or
    a Group's `displayName eq "x"`), so it can be one indexed lookup; None for any other filter."""
    if not isinstance(tree, Compare) or tree.op != "eq" or not isinstance(tree.value, str):
        return None
    schema, name, sub = tree.attr.key
    core = USER_SCHEMA_ID if resource == "User" else GROUP_SCHEMA_ID
    if sub is not None or name != UNIQUE_NAME[resource] or schema not in (None, core.lower()):
        return None
    return tree.value


def user_clause(tree: Filter) -> sa.ColumnElement[bool]:
    """The SQL condition on `users` for a SCIM filter (tenant scoping is the caller's job)."""
    return _Translator("User").visit(tree)


def group_clause(tree: Filter) -> sa.ColumnElement[bool]:
    """The SQL condition on `groups` for a SCIM filter (tenant scoping is the caller's job)."""
    return _Translator("Group").visit(tree)


class _Translator:
    def __init__(self, resource: Literal["User", "Group"]) -> None:
        self.resource = resource

    def visit(self, node: Filter) -> sa.ColumnElement[bool]:
        if isinstance(node, And):
            return sa.and_(self.visit(node.left), self.visit(node.right))
        if isinstance(node, Or):
            return sa.or_(self.visit(node.left), self.visit(node.right))
        if isinstance(node, Not):
            return sa.not_(self.visit(node.inner))
        if isinstance(node, ValueFilter):
            return self._value_filter(node)
        return self._simple(node)

    def _simple(self, node: Compare | Present) -> sa.ColumnElement[bool]:
        attr = node.attr
        name, sub = self._local(attr)
        if self.resource == "User" and name == "emails":
            inner: Compare | Present = (
                Compare(AttrPath(None, sub or "value"), node.op, node.value)
                if isinstance(node, Compare)
                else Present(AttrPath(None, sub or "value"))
            )
            return _exists_email(self._email_condition(inner))
        if self.resource == "Group" and name == "members" and sub in (None, "value"):
            return self._members(node)
        table = USER_COLUMNS if self.resource == "User" else GROUP_COLUMNS
        column = table.get((name, sub))
        if column is None:
            raise invalid_filter(f"filtering on {attr} is not supported for {self.resource}s")
        return _compare(column, node, str(attr))

    def _local(self, attr: AttrPath) -> tuple[str, str | None]:
        """The attribute's (name, sub) in lower case, checking a URN prefix names its schema."""
        schema, name, sub = attr.key
        if schema is not None:
            allowed = {USER_SCHEMA_ID.lower(), ENTERPRISE_USER_SCHEMA_ID.lower()}
            if self.resource == "Group":
                allowed = {GROUP_SCHEMA_ID.lower()}
            if schema not in allowed:
                raise invalid_filter(f"unknown schema {attr.schema} in filter")
            is_enterprise = schema == ENTERPRISE_USER_SCHEMA_ID.lower()
            if is_enterprise != (name in ENTERPRISE_ONLY):
                raise invalid_filter(f"{attr} is not an attribute of {attr.schema}")
        return name, sub

    def _value_filter(self, node: ValueFilter) -> sa.ColumnElement[bool]:
        name, sub = self._local(node.attr)
        if sub is not None:
            raise invalid_filter(f"{node.attr}[…] cannot have a sub-attribute before the bracket")
        if self.resource == "User" and name == "emails":
            return _exists_email(self._email_tree(node.filter))
        if self.resource == "Group" and name == "members":
            return self._members_tree(node.filter)
        raise invalid_filter(f"filtering inside {node.attr}[…] is not supported for {self.resource}s")

    def _email_tree(self, node: Filter) -> sa.ColumnElement[bool]:
        if isinstance(node, And):
            return sa.and_(self._email_tree(node.left), self._email_tree(node.right))
        if isinstance(node, Or):
            return sa.or_(self._email_tree(node.left), self._email_tree(node.right))
        if isinstance(node, Not):
            return sa.not_(self._email_tree(node.inner))
        if isinstance(node, ValueFilter):
            raise invalid_filter("a value filter cannot be nested inside another")
        return self._email_condition(node)

    def _email_condition(self, node: Compare | Present) -> sa.ColumnElement[bool]:
        column = EMAIL_COLUMNS.get(node.attr.name.lower()) if node.attr.sub is None else None
        if column is None:
            raise invalid_filter(f"filtering on emails.{node.attr} is not supported")
        return _compare(column, node, f"emails.{node.attr}")

    def _members_tree(self, node: Filter) -> sa.ColumnElement[bool]:
        if (
            isinstance(node, (Compare, Present))
            and node.attr.name.lower() == "value"
            and node.attr.sub is None
        ):
            return self._members(node)
        raise invalid_filter('only members[value eq "…"] can be filtered on')

    def _members(self, node: Compare | Present) -> sa.ColumnElement[bool]:
        membership = sa.select(group_members.c.user_id).where(group_members.c.group_id == groups.c.id)
        if isinstance(node, Present):
            return membership.exists()
        if node.op not in ("eq", "ne") or not isinstance(node.value, str):
            raise invalid_filter("members can only be compared with eq or ne and a member id")
        found = membership.where(group_members.c.user_id == node.value).exists()
        return found if node.op == "eq" else sa.not_(found)


def _exists_email(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.select(user_emails.c.user_id).where((user_emails.c.user_id == users.c.id) & condition).exists()


def _compare(column: Column, node: Compare | Present, label: str) -> sa.ColumnElement[bool]:
    col = column.column
    if isinstance(node, Present):
        if column.kind == "status":
            return sa.true()
        return col.is_not(None) & (col != "") if column.kind in ("ci", "exact") else col.is_not(None)
    op, value = node.op, node.value
    if column.kind == "status":
        if not isinstance(value, bool) or op not in ("eq", "ne"):
            raise invalid_filter(f"{label} can only be compared with eq or ne and true or false")
        is_active = col == "active"
        return is_active if (op == "eq") == value else sa.not_(is_active)
    if column.kind == "bool":
        if not isinstance(value, bool) or op not in ("eq", "ne"):
            raise invalid_filter(f"{label} can only be compared with eq or ne and true or false")
        return col == value if op == "eq" else col != value
    if column.kind == "time":
        return _ORDERED[op](col, _timestamp(value, label)) if op in _ORDERED else _bad_op(op, label)
    if value is None:
        if op == "eq":
            return col.is_(None)
        if op == "ne":
            return col.is_not(None)
        raise invalid_filter(f"{label} {op} null is not a comparison")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid_filter(f"{label} is compared with a string, not {value!r}")
    text = str(value).casefold() if column.kind == "ci" else str(value)
    if op in _ORDERED:
        return _ORDERED[op](col, text)
    if op == "ne":
        return col.is_(None) | (col != text)
    if len(text) > MAX_SUBSTRING_OPERAND:
        raise invalid_filter(
            f"{label} {op}: the value is longer than {MAX_SUBSTRING_OPERAND} characters,"
            " the most co, sw and ew take"
        )
    pattern = _like_escape(text)
    pattern = {"co": f"%{pattern}%", "sw": f"{pattern}%", "ew": f"%{pattern}"}[op]
    return col.like(pattern, escape="\\")


# A substring match (LIKE '%…%') costs up to value length times operand length per stored value, and one
# such comparison runs in one SQLite VM step that nothing can interrupt: 256 x 65,536 characters
# (the longest stored string) is about 20 ms (ADR 0012).
MAX_SUBSTRING_OPERAND = 256

_ORDERED: dict[str, Callable[[sa.ColumnElement[object], object], sa.ColumnElement[bool]]] = {
    "eq": lambda c, v: c == v,
    "gt": lambda c, v: c > v,
    "ge": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "le": lambda c, v: c <= v,
}


def _bad_op(op: str, label: str) -> sa.ColumnElement[bool]:
    raise invalid_filter(f"{label} cannot be compared with {op}")


def _timestamp(value: Value, label: str) -> datetime:
    if not isinstance(value, str):
        raise invalid_filter(f"{label} is compared with a date-time string")
    try:
        moment = datetime.fromisoformat(_trim_fraction(value.replace("Z", "+00:00")))
    except ValueError:
        raise invalid_filter(f"{label}: {value!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _trim_fraction(text: str) -> str:
    """.NET writes seven fractional digits (`…21.8617979-07:00`); Python takes at most six."""
    if "." not in text:
        return text
    head, rest = text.split(".", 1)
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
