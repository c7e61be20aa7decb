"""Portal roles that identity-provider groups grant: the rules and the reasons (pure).

A role rule says "members of the IdP group G are R" for one tenant. G is named as the identity
provider sends it: a group's `displayName` (compared case-insensitively) or its `externalId`
(exactly), so a rule can be written before the group arrives and applies the moment it does. R
is `learner`, `manager`, or `department_admin`, which also names the department it administers.

A user's roles are never stored: they are what the rules say about the user's group memberships
now (ADR 0037), so they cannot depend on the order in which users, groups and memberships arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["learner", "manager", "department_admin"]
ROLES: tuple[Role, ...] = get_args(Role)
NEEDS_DEPARTMENT: frozenset[Role] = frozenset({"department_admin"})
GROUP_LENGTH = 512  # as long as a group's displayName may be


class RoleRuleError(ValueError):
    """A role rule that cannot be saved (unknown role, missing department, unknown rule); the
    message says what to change."""


class UnknownRoleRuleError(RoleRuleError):
    """No rule of the tenant has this id."""


@dataclass(frozen=True, slots=True)
class RoleRule:
    """One rule: members of `group` get `role` (in `department_id` for a department admin)."""

    id: int
    group: str
    role: Role
    department_id: str | None
    department_name: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "group": self.group,
            "role": self.role,
            "department": (
                None
                if self.department_id is None
                else {"id": self.department_id, "name": self.department_name}
            ),
        }


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A role a user has, with the rule and the group (as stored now) that grant it."""

    role: Role
    department_id: str | None
    department_name: str | None
    group_id: str
    group_name: str
    rule_id: int

    @property
    def title(self) -> str:
        """The role as a person reads it: `manager`, `administrator of Sales`."""
        if self.role == "department_admin":
            return f"administrator of {self.department_name or self.department_id}"
        return self.role

    @property
    def reason(self) -> str:
        """Why the user has it: `manager because member of IdP group Sales Managers`."""
        return f"{self.title} because member of IdP group {self.group_name}"

    def to_json(self) -> dict[str, object]:
        return {
            "role": self.role,
            "department": (
                None
                if self.department_id is None
                else {"id": self.department_id, "name": self.department_name}
            ),
            "group": {"id": self.group_id, "displayName": self.group_name},
            "rule": self.rule_id,
            "reason": self.reason,
        }


def checked_rule(group: str, role: str, department: str | None) -> tuple[str, Role]:
    """The group name trimmed and the role, or `RoleRuleError` saying what is wrong. A
    `department_admin` rule needs a department; the other roles take none."""
    name = group.strip()
    if not name:
        raise RoleRuleError("a role rule names an IdP group (its displayName or externalId)")
    if len(name) > GROUP_LENGTH:
        raise RoleRuleError(f"a group name has at most {GROUP_LENGTH} characters")
    for known in ROLES:
        if role == known:
            if known in NEEDS_DEPARTMENT and not (department or "").strip():
                raise RoleRuleError(f"the role {known} needs a department (--department NAME or id)")
            if known not in NEEDS_DEPARTMENT and (department or "").strip():
                raise RoleRuleError(f"the role {known} is not given per department; leave the department out")
            return name, known
    raise RoleRuleError(f"unknown role {role!r}: one of {', '.join(ROLES)}")


def grant_order(grant: RoleGrant) -> tuple[int, str, str]:
    """Roles in a stable order whatever the database returns: by role, then department, then group."""
    return (ROLES.index(grant.role), grant.department_name or "", grant.group_name.casefold())
