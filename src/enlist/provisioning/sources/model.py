"""What every source hands the framework: a round of pages of plain, frozen records.

The contract every reader keeps (the Source contract suite in tests/contract/ checks it):

- Ids are the source's immutable ids (Graph `id`, AD `objectGUID`, OpenLDAP `entryUUID`, a
  push client's resource id), never a name: a rename keeps the object.
- Attributes are Graph-shaped (see `enlist.provisioning.directory.model`), whatever the source,
  so that Entra's default attribute mappings apply to every source unchanged. An attribute a
  record does not carry is unchanged; one carried as `None` is cleared.
- A full round (`RoundKind` `full`) lists every object in the source's scope: what the
  directory holds from this source and the round did not list is removed, but only once the
  whole round has been read. A delta round lists changes only; an object is removed only by
  an explicit `Removal`, never by its absence.
- Pages may repeat an object or come out of order: applying the same record twice gives the
  same directory as applying it once, and a later record of an object wins over an earlier one.
- A reader raises `SourceUnavailableError` (or a subclass) for anything that stops the round;
  the framework then applies nothing of the round and keeps the previous cursor.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ObjectKind = Literal["user", "group"]
RoundKind = Literal["full", "delta"]


class Unchanged(enum.Enum):
    """The marker for "this record says nothing about it" (a delta without `manager`)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as the source has it now. `manager` is the manager's source id, `None` when the
    user has none, or `UNCHANGED` when the record does not say."""

    source_id: str
    attributes: Mapping[str, Any]
    manager: str | Unchanged | None = UNCHANGED


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A group as the source has it now.

    With `members_complete`, `member_users` and `member_groups` are the whole member lists (a
    full read); without it they are additions, and `removed_members` lists source ids that left
    (Graph's `members@delta` with `@removed`). Nested groups are kept as nesting."""

    source_id: str
    attributes: Mapping[str, Any]
    member_users: frozenset[str] = field(default_factory=frozenset)
    member_groups: frozenset[str] = field(default_factory=frozenset)
    removed_members: frozenset[str] = field(default_factory=frozenset)
    members_complete: bool = False


@dataclass(frozen=True, slots=True)
class Removal:
    """The source says the object is gone from its scope. `deleted` (Graph `@removed` reason
    `deleted`, an LDAP tombstone) soft-deletes it; `changed` (moved out of scope, or soft-deleted
    in Entra and still restorable there) soft-deletes it too: both are restorable for 30 days."""

    kind: ObjectKind
    source_id: str
    reason: Literal["changed", "deleted"] = "changed"


@dataclass(frozen=True, slots=True)
class Page:
    users: tuple[UserRecord, ...] = ()
    groups: tuple[GroupRecord, ...] = ()
    removals: tuple[Removal, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The answer to `source test`: `ok`, and when not, what is wrong and what to do next."""

    ok: bool
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


class SourceUnavailableError(Exception):
    """The round cannot go on (unreachable, bad credentials, a missing permission, a failure
    that outlived the retries). The message says what to fix."""


class CursorExpiredError(SourceUnavailableError):
    """The stored cursor is no longer valid (Graph's 410 / resync): the next round must be full."""


class Round(Protocol):
    """One read of a source. Iterate `pages()` to the end; only then is `cursor` the value to
    store for the next delta round (`None` when the source has no delta)."""

    kind: RoundKind

    def pages(self) -> AsyncIterator[Page]: ...

    @property
    def cursor(self) -> str | None: ...


class SourceReader(Protocol):
    """A kind of source, configured. `start_round(None)` or `full=True` reads everything."""

    async def check(self) -> CheckResult: ...

    async def start_round(self, cursor: str | None, *, full: bool = False) -> Round: ...
