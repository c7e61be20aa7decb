"""Group membership PATCH operations folded into deltas: the members list is never materialised.

A group can have far more members than fit in a request, and Entra never reads them back, so
every operation on `members` becomes part of one `MemberChanges`: ids to add, ids to remove, or
a whole new set. The fold keeps the net effect of the operations in their order (remove all,
then add x, is "the members are exactly x").

Shapes accepted, in Entra's dialects and Microsoft's test collection:

- `add`/`replace` `members` with a list of `{"value": id}` (other keys such as `$ref` ignored),
  a list of bare id strings, a single object or a single bare string; path-less
  `{"members": […]}` arrives here as path `members`.
- `remove` `members` with a value removes exactly the listed members (Entra's default dialect:
  the RFC-strict reading, which empties the group, is the famous bug we must never have).
  `remove` `members` without a value (or with `null`) removes all; with `[]` it removes none.
- `remove` `members[value eq "id"]` (Entra's `aadOptscim062020` dialect), also `or`-joined.
- `replace` `members` with a list replaces the set; with `null` or `[]` removes all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from enlist.scim.errors import invalid_path
from enlist.scim.filter_ast import Compare, Filter, Or, PatchPath
from enlist.scim.resource import parse_member_ids

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True, slots=True)
class MemberChanges:
    """The net change to a group's members.

    Exactly one of three forms: `replace` set (the members become exactly these ids, `add` and
    `remove` empty); `remove_all` true (the group is emptied, nothing else set); or neither, with
    `add` and `remove` disjoint deltas against the current members. An unchanged group is the
    third form with both empty.
    """

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    remove_all: bool = False
    replace: tuple[str, ...] | None = None

    @property
    def is_empty(self) -> bool:
        """True when the members stay as they are."""
        return not (self.add or self.remove or self.remove_all or self.replace is not None)

    def apply_to(self, members: Iterable[str]) -> list[str]:
        """The member ids after these changes, for stores that hold the list in memory."""
        if self.remove_all:
            return []
        if self.replace is not None:
            return list(self.replace)
        removed = set(self.remove)
        result = [m for m in dict.fromkeys(members) if m not in removed]
        present = set(result)
        return result + [m for m in self.add if m not in present]


@dataclass(slots=True)
class MemberFold:
    """The running fold of member operations; `result()` gives the `MemberChanges`."""

    replacement: dict[str, None] | None = None
    added: dict[str, None] = field(default_factory=dict)
    removed: dict[str, None] = field(default_factory=dict)

    def add(self, ids: Iterable[str]) -> None:
        for member in ids:
            if self.replacement is not None:
                self.replacement[member] = None
            else:
                self.removed.pop(member, None)
                self.added[member] = None

    def remove(self, ids: Iterable[str]) -> None:
        for member in ids:
            if self.replacement is not None:
                self.replacement.pop(member, None)
            else:
                self.added.pop(member, None)
                self.removed[member] = None

    def replace(self, ids: Iterable[str]) -> None:
        self.replacement = dict.fromkeys(ids)
        self.added, self.removed = {}, {}

    def result(self) -> MemberChanges:
        if self.replacement is None:
            return MemberChanges(add=tuple(self.added), remove=tuple(self.removed))
        if not self.replacement:
            return MemberChanges(remove_all=True)
        return MemberChanges(replace=tuple(self.replacement))


def apply_member_op(fold: MemberFold, op: str, path: PatchPath, value: Any) -> None:
    """Fold one operation whose path names `members` (`path.attr.sub` must be empty)."""
    if path.attr.sub is not None or path.value_sub is not None:
        raise invalid_path('Member PATCH paths are members or members[value eq "id"]')
    if path.filter is not None:
        if op != "remove":
            raise invalid_path(f'A filtered members path takes only remove, not "{op}"')
        fold.remove(_filter_ids(path.filter))
        return
    if op == "add":
        fold.add(parse_member_ids(value, "members"))
    elif op == "replace":
        fold.replace(parse_member_ids(value, "members"))
    elif value is None:
        fold.replace(())
    else:
        fold.remove(parse_member_ids(value, "members"))


def _filter_ids(value_filter: Filter) -> list[str]:
    """The ids of `value eq "id"` terms joined by `or`."""
    match value_filter:
        case Or(left, right):
            return _filter_ids(left) + _filter_ids(right)
        case Compare(attr, "eq", str(member)) if attr.schema is None and attr.sub is None:
            if attr.name.lower() == "value" and member:
                return [member]
    raise invalid_path('A members filter must be value eq "id" (or several joined by or)')
