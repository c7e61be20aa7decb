"""Who is in scope for an application: the pure rules of Entra's scoping step, and ours.

A user is in scope when the account is enabled and not soft-deleted, and either the app syncs
all users or the user is assigned directly or through a direct member of an assigned group
(through nested groups too, when the app turns on flattening, which Entra cannot do), and the
scoping filters pass. Every answer carries the reasons the provisioning log shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from enlist.provisioning.directory.model import SourceGroup, SourceUser
from enlist.provisioning.mapping.errors import RegexTimeoutError


@dataclass(frozen=True, slots=True)
class Assignments:
    """The app's assignments: source ids of users and groups (Users and groups page)."""

    users: frozenset[str]
    groups: frozenset[str]


@dataclass(frozen=True, slots=True)
class ScopeDecision:
    """`undecided`: the scoping filters could not be evaluated (a regular expression ran past its
    time limit), so the object is neither in nor out of scope; `in_scope` is then False, and the
    cycle leaves the object as it is rather than create, disable or drop it from groups."""

    in_scope: bool
    reason: str
    details: Mapping[str, object]
    undecided: bool = False

    @property
    def out_of_scope_by_rule(self) -> bool:
        """Out of scope because of assignment or a scoping filter (not disabled or deleted):
        what `skip_out_of_scope_deletions` protects."""
        return not self.in_scope and self.details.get("IsActive") is True


def expand_assigned_groups(
    assigned: frozenset[str], parents_of: Mapping[str, frozenset[str]], *, flatten: bool
) -> frozenset[str]:
    """The groups whose direct members are in scope: the assigned ones, plus (flattening) every
    group nested inside them at any depth. `parents_of` maps a group to the groups it is a
    direct member of."""
    if not flatten:
        return assigned
    children: dict[str, set[str]] = {}
    for child, parents in parents_of.items():
        for parent in parents:
            children.setdefault(parent, set()).add(child)
    seen = set(assigned)
    frontier = list(assigned)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return frozenset(seen)


def user_scope(
    user: SourceUser,
    *,
    sync_all: bool,
    assignments: Assignments,
    effective_groups: frozenset[str],
    user_groups: Iterable[str],
    passes_filters: Callable[[SourceUser], bool],
) -> ScopeDecision:
    """Whether `user` is in scope; `effective_groups` from `expand_assigned_groups`."""
    via_groups = sorted(set(user_groups) & effective_groups)
    assigned = user.id in assignments.users or bool(via_groups)
    details: dict[str, object] = {
        "IsActive": user.enabled and not user.soft_deleted,
        "IsSoftDeleted": user.soft_deleted,
        "AccountEnabled": user.enabled,
        "Assigned": assigned,
        "AssignedThroughGroups": via_groups,
        "ScopeSyncAll": sync_all,
    }
    if user.soft_deleted:
        return ScopeDecision(False, "the user is soft-deleted in the source directory", details)
    if not user.enabled:
        return ScopeDecision(False, "the account is disabled in the source directory", details)
    if not sync_all and not assigned:
        return ScopeDecision(
            False, "the user is not assigned to the application, directly or by a group", details
        )
    try:
        passes = passes_filters(user)
    except RegexTimeoutError as exc:
        details["ScopingFilters"] = "not evaluated"
        return ScopeDecision(
            False, f"the scoping filters could not be evaluated: {exc}", details, undecided=True
        )
    if not passes:
        details["ScopingFilters"] = "failed"
        return ScopeDecision(False, "the user does not pass the application's scoping filters", details)
    why = (
        "assigned directly"
        if user.id in assignments.users
        else f"assigned through {len(via_groups)} group(s)"
    )
    return ScopeDecision(True, "sync all" if sync_all and not assigned else why, details)


def group_scope(group: SourceGroup, *, sync_all: bool, effective_groups: frozenset[str]) -> ScopeDecision:
    """Whether a group object itself is provisioned: assigned (or nested in one, flattening), or all."""
    details: dict[str, object] = {
        "IsSoftDeleted": group.deleted_at is not None,
        "Assigned": group.id in effective_groups,
    }
    if group.deleted_at is not None:
        return ScopeDecision(False, "the group is soft-deleted in the source directory", details)
    if not group.display_name:
        return ScopeDecision(False, "the group has no displayName, its matching attribute", details)
    if sync_all or group.id in effective_groups:
        return ScopeDecision(True, "sync all" if sync_all else "assigned", details)
    return ScopeDecision(False, "the group is not assigned to the application", details)
