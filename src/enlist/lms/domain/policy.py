"""Tenant policies: how SCIM groups land, where users are placed, what DELETE does, seat limits.

A `TenantPolicy` is a frozen value; `with_changes` validates `KEY=VALUE` text from the CLI or
the admin pages and returns a new policy, or raises `PolicyError` naming the key and what it
accepts. Stored as JSON in the tenant row.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass
from typing import Any, Literal

GroupMode = Literal["departments", "groups", "both"]
DeletePolicy = Literal["terminate", "erase"]
TieBreak = Literal["name", "oldest"]
UnknownManagers = Literal["refuse", "keep"]
DepartmentSource = Literal["none", "attribute", "division", "group_names"]

GROUP_MODES: tuple[GroupMode, ...] = ("departments", "groups", "both")
DELETE_POLICIES: tuple[DeletePolicy, ...] = ("terminate", "erase")
TIE_BREAKS: tuple[TieBreak, ...] = ("name", "oldest")
UNKNOWN_MANAGERS: tuple[UnknownManagers, ...] = ("refuse", "keep")
DEPARTMENT_SOURCES: tuple[DepartmentSource, ...] = ("none", "attribute", "division", "group_names")
DEPARTMENT_RULE_KEYS = (
    "department_source",
    "department_attribute",
    "department_separator",
    "department_group_prefix",
)
"""The department tree rule (ADR 0034): where the tree comes from, and how a value is a path."""
MAX_RULE_TEXT = 256
AS_TYPED = ("department_separator", "department_group_prefix")
REQUIRABLE_FIELDS = (
    "email",
    "name.givenName",
    "name.familyName",
    "displayName",
    "title",
    "phoneNumbers",
    "externalId",
    "employeeNumber",
    "department",
    "manager",
)


MAX_OVERLAP_HOURS = 24 * 366


class PolicyError(ValueError):
    """A setting that does not exist or a value it does not take."""


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """The tenant's rules. Defaults: groups become both departments and groups; DELETE terminates
    (keeps history); no seat limit; no required fields; 24 h token overlap; 90 days of sync log;
    a manager who is not a user of the tenant refuses the user (`unknown_managers`, ADR 0011)."""

    group_mode: GroupMode = "both"
    placement: tuple[str, ...] = ()
    tie_break: TieBreak = "name"
    delete_policy: DeletePolicy = "terminate"
    seat_limit: int | None = None
    required_fields: tuple[str, ...] = ()
    token_overlap_hours: float = 24.0
    log_retention_days: int = 90
    unknown_managers: UnknownManagers = "refuse"
    department_source: DepartmentSource = "none"
    department_attribute: str = "department"
    department_separator: str = "/"
    department_group_prefix: str = "Dept - "

    @property
    def makes_departments(self) -> bool:
        """Whether each SCIM group lands as a department of its own, flat under the root: not
        while a department tree rule places people (`department_source`, ADR 0034)."""
        return self.group_mode in ("departments", "both") and not self.builds_tree

    @property
    def builds_tree(self) -> bool:
        """Whether the department tree comes from what the identity provider sends."""
        return self.department_source != "none"

    @property
    def keeps_unknown_managers(self) -> bool:
        """Whether a manager reference that names no user yet is stored, pending, not refused."""
        return self.unknown_managers == "keep"

    @property
    def makes_groups(self) -> bool:
        return self.group_mode in ("groups", "both")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["placement"] = list(self.placement)
        data["required_fields"] = list(self.required_fields)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TenantPolicy:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("placement", "required_fields"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def with_changes(self, changes: dict[str, str]) -> TenantPolicy:
        """Apply textual settings (`seat_limit=500`, `placement=Sales*,Engineering`)."""
        updates: dict[str, Any] = {}
        for key, text in changes.items():
            # A separator and a prefix are taken as typed: ` - ` splits `Sales - EMEA` but not
            # `North-East`, and `Dept - ` stays `Dept - ` (a policy document reads back the same).
            updates[key] = _parse_setting(key, text if key in AS_TYPED else text.strip())
        return dataclasses.replace(self, **updates)


def _parse_setting(key: str, text: str) -> Any:
    if key == "group_mode":
        return _choice(key, text, GROUP_MODES)
    if key == "delete_policy":
        return _choice(key, text, DELETE_POLICIES)
    if key == "tie_break":
        return _choice(key, text, TIE_BREAKS)
    if key == "unknown_managers":
        return _choice(key, text, UNKNOWN_MANAGERS)
    if key == "placement":
        return tuple(p.strip() for p in text.split(",") if p.strip())
    if key == "required_fields":
        fields = tuple(f.strip() for f in text.split(",") if f.strip())
        unknown = [f for f in fields if f not in REQUIRABLE_FIELDS]
        if unknown:
            choices = ", ".join(REQUIRABLE_FIELDS)
            raise PolicyError(
                f"required_fields: {', '.join(unknown)} cannot be required; choose from {choices}"
            )
        return fields
    if key == "seat_limit":
        if text.lower() in ("", "none", "unlimited"):
            return None
        return _number(key, text, int, minimum=0)
    if key == "token_overlap_hours":
        hours = _number(key, text, float, minimum=0)
        if not hours <= MAX_OVERLAP_HOURS:  # also refuses nan and inf
            raise PolicyError(f"token_overlap_hours must be between 0 and {MAX_OVERLAP_HOURS}")
        return hours
    if key == "log_retention_days":
        return _number(key, text, int, minimum=1)
    if key == "department_source":
        return _choice(key, text, DEPARTMENT_SOURCES)
    if key in ("department_attribute", "department_separator", "department_group_prefix"):
        return _rule_text(key, text)
    known = ", ".join(f.name for f in dataclasses.fields(TenantPolicy))
    raise PolicyError(f"unknown setting {key!r}; the settings are {known}")


def _rule_text(key: str, text: str) -> str:
    if not text.strip():
        raise PolicyError(f"{key} must not be empty")
    if len(text) > MAX_RULE_TEXT or any(ord(c) < 32 for c in text):
        raise PolicyError(f"{key} must be at most {MAX_RULE_TEXT} characters without control characters")
    if key == "department_attribute" and any(c.isspace() for c in text):
        raise PolicyError(
            "department_attribute names one attribute: department, division, costCenter, "
            "organization, a core attribute such as title, or urn:…:User:name for an extension"
        )
    return text


def _choice(key: str, text: str, choices: tuple[str, ...]) -> str:
    if text not in choices:
        raise PolicyError(f"{key} must be one of {', '.join(choices)}, not {text!r}")
    return text


def _number(key: str, text: str, kind: type[int | float], minimum: float) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise PolicyError(f"{key} must be a number, not {text!r}") from None
    if value < minimum:
        raise PolicyError(f"{key} must be at least {minimum}")
    return value


def matches_pattern(pattern: str, name: str) -> bool:
    """A placement pattern: a group name or a shell-style glob (`Sales*`), case-insensitive."""
    return fnmatch.fnmatchcase(name.casefold(), pattern.casefold())
