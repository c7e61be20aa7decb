"""What the engine reads from a source directory: users and groups as frozen values.

Attributes are Graph-shaped (`userPrincipalName`, `mail`, `givenName`, `surname`, `displayName`,
`jobTitle`, `department`, `employeeId`, `mobilePhone`, `businessPhones`, `officeLocation`,
`streetAddress`, `city`, `state`, `postalCode`, `country`, `preferredLanguage`,
`accountEnabled`, `mailNickname`, `objectId`), so that Entra's default attribute mappings apply
unchanged. Ids are the source's stable object ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ObjectKind = Literal["user", "group"]


@dataclass(frozen=True, slots=True)
class SourceUser:
    id: str
    attributes: Mapping[str, Any]
    manager_id: str | None = None
    deleted_at: datetime | None = None

    @property
    def upn(self) -> str:
        return str(self.attributes.get("userPrincipalName") or "")

    @property
    def enabled(self) -> bool:
        return self.attributes.get("accountEnabled", True) is not False

    @property
    def soft_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class SourceGroup:
    id: str
    attributes: Mapping[str, Any]
    member_user_ids: frozenset[str] = field(default_factory=frozenset)
    member_group_ids: frozenset[str] = field(default_factory=frozenset)
    deleted_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return str(self.attributes.get("displayName") or "")


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """One entry of the change feed: an object changed, or a membership (group, member) did.

    `kind` is `user`, `group` or `membership`; for a membership `object_id` is the group and
    `member_id` the member (a user or a nested group)."""

    seq: int
    kind: Literal["user", "group", "membership"]
    object_id: str
    member_id: str | None = None
