"""The pure part of a cycle: what to do with one object, and which attributes changed.

`decide_user` and `decide_group` turn (source object, scope decision, link) into an `Action`;
`diff` compares the attributes last written to the target (the link's state) with the ones the
mappings want now, so an update sends one PATCH with only what changed, and an object whose
attributes did not change sends nothing. No I/O here: the cycle runner does the matching query
and the requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from enlist.provisioning.engine.scope import ScopeDecision

ActionKind = Literal["create", "update", "disable", "delete", "skip"]
ACTIVE = "active"
REFERENCE_TARGETS = (
    "manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager",
    "members",
)


@dataclass(frozen=True, slots=True)
class Change:
    """One target attribute: `old` as last written (None: absent), `new` as wanted (None: remove)."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class LinkState:
    """What the engine knows of the target object it linked: its id, what it last wrote, and
    whether it disabled it."""

    target_id: str
    state: Mapping[str, Any]
    disabled: bool


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    reason: str
    changes: tuple[Change, ...] = ()
    desired: Mapping[str, Any] = field(default_factory=dict)
    skip_reason: str | None = None

    @property
    def is_removal(self) -> bool:
        """Disables and deletes: what the accidental-deletion threshold counts."""
        return self.kind in ("disable", "delete")


def is_reference(path: str) -> bool:
    return path.lower() in REFERENCE_TARGETS


def diff(old: Mapping[str, Any], new: Mapping[str, Any], *, keep_unmapped: bool = True) -> list[Change]:
    """Attributes whose wanted value differs from the one last written, sorted by path.

    Entra never clears a target attribute when the source value becomes empty (null values are
    not provisioned), and neither do we by default (`keep_unmapped`): an attribute missing from
    `new` is left as it is. References (manager, members) are handled by their own pass.
    """
    changes = [
        Change(path, old.get(path), value)
        for path, value in new.items()
        if not is_reference(path) and old.get(path) != value
    ]
    if not keep_unmapped:
        changes += [
            Change(path, value, None)
            for path, value in old.items()
            if path not in new and not is_reference(path)
        ]
    return sorted(changes, key=lambda c: c.path)


def decide_user(
    *,
    exists_in_source: bool,
    scope: ScopeDecision | None,
    link: LinkState | None,
    desired: Mapping[str, Any],
    skip_out_of_scope_deletions: bool,
    has_active_mapping: bool = True,
) -> Action:
    """What to do with one user this cycle (Entra's rules, §2.6 of our spec).

    - gone from the source (hard-deleted) and linked → delete;
    - in scope, not linked → create (the runner first looks for a match to adopt);
    - in scope, linked → update with the changed attributes, re-enabling a user we disabled;
      nothing changed → skip (`RedundantExport`);
    - out of scope (unassigned, filtered, disabled, soft-deleted), linked and enabled →
      disable, unless the reason is assignment or a filter and the app skips out-of-scope
      deletions; an app whose mappings have no `active` gets a delete instead, as Entra does;
    - scope undecided (a scoping filter's regular expression ran past its time limit) → skip,
      whatever the link: the object stays as it is until the filter can be evaluated;
    - otherwise → skip.
    """
    if not exists_in_source:
        if link is None:
            return Action("skip", "the user is not in the source directory", skip_reason="NotInSource")
        return Action("delete", "the user was deleted from the source directory")
    assert scope is not None
    if scope.undecided:
        return Action("skip", scope.reason, skip_reason="ScopingFilterNotEvaluated")
    if scope.in_scope:
        if link is None:
            return Action("create", scope.reason, desired=desired)
        wanted = dict(desired)
        if link.disabled:
            wanted[ACTIVE] = True
        changes = tuple(diff(link.state, wanted))
        if not changes:
            return Action(
                "skip",
                "the user in the source and the target already match",
                desired=wanted,
                skip_reason="RedundantExport",
            )
        return Action("update", scope.reason, changes, desired=wanted)
    if link is None:
        return Action("skip", scope.reason, skip_reason="NotEffectivelyEntitled")
    if link.disabled:
        return Action(
            "skip",
            f"{scope.reason}; the user is already disabled in the target",
            skip_reason="AlreadyDisabled",
        )
    if scope.out_of_scope_by_rule and skip_out_of_scope_deletions:
        return Action(
            "skip",
            f"{scope.reason}; skip_out_of_scope_deletions is on, so the user is left as it is",
            skip_reason="OutOfScopeDeletionSkipped",
        )
    if not has_active_mapping:
        return Action("delete", f"{scope.reason}; the mappings have no 'active', so the user is deleted")
    return Action("disable", scope.reason, (Change(ACTIVE, link.state.get(ACTIVE, True), False),))


def decide_group(
    *, exists_in_source: bool, scope: ScopeDecision | None, link: LinkState | None, desired: Mapping[str, Any]
) -> Action:
    """Groups are created, updated, or deleted (Entra deletes a group that leaves scope)."""
    if not exists_in_source or scope is None or not scope.in_scope:
        if link is None:
            reason = scope.reason if scope else "the group is not in the source directory"
            return Action("skip", reason, skip_reason="NotEffectivelyEntitled")
        reason = scope.reason if scope else "the group was deleted from the source directory"
        return Action("delete", reason)
    if link is None:
        return Action("create", scope.reason, desired=desired)
    changes = tuple(diff(link.state, desired))
    if not changes:
        return Action(
            "skip",
            "the group in the source and the target already match",
            desired=desired,
            skip_reason="RedundantExport",
        )
    return Action("update", scope.reason, changes, desired=desired)


def unmappable(error: Exception) -> Action:
    """The mappings cannot be evaluated for this object (an expression fails for its values, a
    regular expression runs past its time limit): it is skipped and left as it is, the log
    saying why, and the cycle goes on with the others."""
    return Action(
        "skip",
        f"the attribute mappings could not be evaluated: {error}",
        skip_reason="MappingEvaluationFailed",
    )


def member_delta(
    wanted: set[str], written: set[str], *, checked: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """Members to add and to remove, looking only at `checked` members when given (an
    incremental cycle checks the pairs that changed, not the whole group)."""
    scope = checked if checked is not None else wanted | written
    add = sorted(m for m in scope if m in wanted and m not in written)
    remove = sorted(m for m in scope if m in written and m not in wanted)
    return add, remove
