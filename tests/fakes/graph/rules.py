"""What the fake Graph accepts and how it refuses (graph-source.md §2.1, §2.2, §5.5, §6.1):
permissions per route, query options, `$select`, `$top`, and the error it raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.graph.tenant import USER_NOT_IN_COLLECTIONS

READ_USERS = frozenset(
    {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)
READ_MEMBERS = frozenset(
    {"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}
)
READ_DELETED_GROUPS = frozenset({"Group.Read.All", "Directory.Read.All"})
READ_APPS = frozenset({"Application.Read.All", "Directory.Read.All"})
LIST_OPTIONS = frozenset(
    {"$select", "$top", "$skip", "$skiptoken", "$expand", "$count", "$filter", "$orderby", "$search"}
)
DELTA_OPTIONS = frozenset({"$select", "$top", "$skiptoken", "$deltatoken", "$filter"})
MANAGER_MISSING = (
    "Resource 'manager' does not exist or one of its queried reference-property objects are not present."
)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def select_of(
    options: Mapping[str, str], allowed: frozenset[str], type_name: str, *, in_delta: bool = False
) -> frozenset[str] | None:
    if "$select" not in options:
        return None
    props = frozenset(p.strip() for p in options["$select"].split(",") if p.strip())
    for prop in sorted(props):
        if prop in USER_NOT_IN_COLLECTIONS and type_name == "user":
            if in_delta:
                raise GraphError(
                    400,
                    "BadRequest",
                    "Invalid request for delta query: for this entity set, $expand/$select is not supported "
                    f"for the following properties: {prop}",
                )
            raise GraphError(
                501, "NotImplemented", f"The property '{prop}' is not supported in a collection."
            )
        if prop not in allowed:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{prop}' on type 'microsoft.graph.{type_name}'.",
            )
    return props


def top_of(options: Mapping[str, str], default: int = 100) -> int:
    if "$skip" in options:
        raise GraphError(400, "Request_BadRequest", "'$skip' is not supported by the service.")
    raw = options.get("$top")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 999:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.",
        )
    return int(raw)


def refuse_unknown(options: Mapping[str, str], allowed: frozenset[str]) -> None:
    for key in options:
        if key.startswith("$") and key not in allowed:
            raise GraphError(400, "BadRequest", f"Query option '{key}' is not allowed.")
