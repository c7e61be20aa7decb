"""The ports a cycle talks through: a source directory and a SCIM target.

The built-in directory implements `Source` (`enlist.provisioning.directory.source`); Entra ID
through Microsoft Graph, LDAP and HR files will implement it too. A source that cannot read
everything raises `SourceReadError`, and a cycle that gets one sends no disable and no delete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from enlist.provisioning.directory.model import ChangeEntry, SourceGroup, SourceUser
from enlist.provisioning.target.dialect import AttributeChange


class SourceReadError(RuntimeError):
    """The source failed or answered partially: nothing may be deprovisioned on its word."""


class Source(Protocol):
    async def current_seq(self) -> int: ...

    async def changes_since(self, seq: int) -> list[ChangeEntry]: ...

    def iter_users(self, page_size: int) -> AsyncIterator[list[SourceUser]]: ...

    def iter_groups(self, page_size: int) -> AsyncIterator[list[SourceGroup]]: ...

    async def get_users(self, ids: Iterable[str]) -> dict[str, SourceUser]: ...

    async def get_groups(self, ids: Iterable[str]) -> dict[str, SourceGroup]: ...

    async def groups_containing(self, member_ids: Iterable[str]) -> dict[str, set[str]]: ...

    async def reports_of(self, manager_ids: Iterable[str]) -> set[str]: ...


class Target(Protocol):
    async def find_users(self, attribute: str, value: str) -> list[dict[str, Any]]: ...

    async def find_groups(self, display_name: str) -> list[dict[str, Any]]: ...

    async def create(self, resource_type: Any, body: dict[str, Any]) -> dict[str, Any]: ...

    async def patch_user(self, resource_id: str, changes: list[AttributeChange]) -> None: ...

    async def patch_group(self, resource_id: str, changes: list[AttributeChange]) -> None: ...

    async def patch_members(self, group_id: str, add: list[str], remove: list[str]) -> int: ...

    async def delete(self, resource_type: Any, resource_id: str) -> None: ...
