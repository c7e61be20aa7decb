"""Which department a user belongs to, when the user is a member of several SCIM groups.

iSpring puts the user in "whichever group was processed last". Here the answer depends only on
the user's groups and the tenant's rule, never on the order requests arrived in: the first
pattern of the priority list that matches one of the user's department-groups wins; among the
groups a pattern matches (or, when none matches, among all of them) the tie-break picks by name
(case-insensitive, then id) or by the oldest membership (then id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from enlist.lms.domain.policy import TenantPolicy, matches_pattern


@dataclass(frozen=True, slots=True)
class Membership:
    """One of the user's groups that has a department, and when the user joined it."""

    group_id: str
    group_name: str
    department_id: str
    added_at: datetime


def choose_department(
    policy: TenantPolicy, memberships: Sequence[Membership], root_department_id: str
) -> str:
    """The department the user belongs in: the root department when no group qualifies."""
    if not memberships:
        return root_department_id
    candidates: Sequence[Membership] = memberships
    for pattern in policy.placement:
        matched = [m for m in memberships if matches_pattern(pattern, m.group_name)]
        if matched:
            candidates = matched
            break
    if policy.tie_break == "oldest":
        best = min(candidates, key=lambda m: (m.added_at, m.group_id))
    else:
        best = min(candidates, key=lambda m: (m.group_name.casefold(), m.group_id))
    return best.department_id
