"""The optional scope of a Graph source: members of given groups, or an application's assignments.

Read whole at the start of every round (one request per 999 members or assignments, §4.2: there
is no v1.0 delta for assignments). Its digest travels in the cursor: when the scope changed
since the last round, the reader reads a full round instead of a delta, because a delta round
does not list users who entered or left the scope without changing themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from enlist.provisioning.sources.graph.client import GraphClient
from enlist.provisioning.sources.graph.errors import GraphHTTPError
from enlist.provisioning.sources.graph.mapping import GROUP_TYPE, USER_TYPE
from enlist.provisioning.sources.graph.settings import GraphSettings
from enlist.provisioning.sources.model import SourceUnavailableError


@dataclass(frozen=True, slots=True)
class Scope:
    users: frozenset[str]
    groups: frozenset[str]

    @property
    def digest(self) -> str:
        text = ",".join(sorted(self.users)) + "|" + ",".join(sorted(self.groups))
        return hashlib.sha256(text.encode()).hexdigest()


async def collect(client: GraphClient, path: str, permission: str) -> AsyncIterator[dict[str, Any]]:
    """Every item of a paged collection, following `@odata.nextLink` verbatim (§2.2)."""
    link: str | None = path
    while link is not None:
        body = await client.get(link, permission=permission)
        for item in body.get("value") or ():
            yield item
        link = body.get("@odata.nextLink")


async def _members(client: GraphClient, group_id: str, relation: str) -> tuple[set[str], set[str]]:
    users: set[str] = set()
    groups: set[str] = set()
    path = f"/groups/{quote(group_id)}/{relation}?$select=id&$top=999"
    try:
        async for item in collect(client, path, "GroupMember.Read.All"):
            if item.get("@odata.type") == USER_TYPE:
                users.add(str(item["id"]))
            elif item.get("@odata.type") == GROUP_TYPE:
                groups.add(str(item["id"]))
    except GraphHTTPError as error:
        if error.status == 404:
            raise SourceUnavailableError(
                f"the scope group {group_id} does not exist in the tenant"
            ) from error
        raise
    return users, groups


async def read_scope(client: GraphClient, settings: GraphSettings) -> Scope | None:
    if settings.scope_groups:
        users: set[str] = set()
        groups: set[str] = set(settings.scope_groups)
        for group_id in settings.scope_groups:
            member_users, member_groups = await _members(client, group_id, "transitiveMembers")
            users |= member_users
            groups |= member_groups
        return Scope(frozenset(users), frozenset(groups))
    if settings.scope_app_id:
        app = quote(settings.scope_app_id)
        users = set()
        groups = set()
        path = f"/servicePrincipals(appId='{app}')/appRoleAssignedTo?$top=999"
        try:
            async for assignment in collect(client, path, "Application.Read.All"):
                if assignment.get("principalType") == "User":
                    users.add(str(assignment["principalId"]))
                elif assignment.get("principalType") == "Group":
                    groups.add(str(assignment["principalId"]))
        except GraphHTTPError as error:
            if error.status == 404:
                raise SourceUnavailableError(
                    f"no enterprise application (service principal) with appId {settings.scope_app_id} "
                    "in the tenant"
                ) from error
            raise
        # Entra: members of an assigned group are assigned; nested groups' members are not.
        for group_id in sorted(groups):
            member_users, _ = await _members(client, group_id, "members")
            users |= member_users
        return Scope(frozenset(users), frozenset(groups))
    return None
