"""One read of Graph: users/delta, then groups/delta, page by page (graph-source.md §5).

- A full round starts both delta queries with `$select` (users: the properties of §2.1 and
  `manager`; groups: their properties and `members`); a delta round follows the two stored
  deltaLinks. `@odata.nextLink` is followed verbatim until `@odata.deltaLink`.
- The cursor, `{"users": deltaLink, "groups": deltaLink, "scope": digest}`, exists only once
  both queries reached their deltaLink: a round cut off part-way has none, and raises.
- 400/404/410 with code `syncStateNotFound`/`resyncRequired` (any case), or any 410, on a
  stored link or a page of a round raises `CursorExpiredError`: the framework reads full.
- Memory is one page, plus in a full round the members of the one group being read (a large
  group's members come over successive pages with the group repeated, §5.4: its slices are
  merged and handed on as the whole member list once a page no longer carries it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import orjson

from enlist.provisioning.sources.graph.batch import managers_of
from enlist.provisioning.sources.graph.client import GraphClient
from enlist.provisioning.sources.graph.errors import GraphHTTPError
from enlist.provisioning.sources.graph.mapping import (
    GROUP_SELECT,
    USER_SELECT,
    group_record,
    merge_groups,
    user_record,
)
from enlist.provisioning.sources.graph.scope import Scope
from enlist.provisioning.sources.graph.settings import GraphSettings
from enlist.provisioning.sources.model import (
    CursorExpiredError,
    GroupRecord,
    Page,
    Removal,
    RoundKind,
    SourceUnavailableError,
    UserRecord,
)

RESYNC_CODES = frozenset({"syncstatenotfound", "resyncrequired"})
USERS_PERMISSION = "User.Read.All"
GROUPS_PERMISSION = "GroupMember.Read.All"


def encode_cursor(users: str, groups: str, scope: Scope | None) -> str:
    return orjson.dumps({"users": users, "groups": groups, "scope": scope.digest if scope else None}).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        document = orjson.loads(cursor)
    except orjson.JSONDecodeError as error:
        raise CursorExpiredError("the stored Graph cursor is unreadable; a full read is needed") from error
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("users"), str)
        or not isinstance(document.get("groups"), str)
    ):
        raise CursorExpiredError("the stored Graph cursor is not a pair of deltaLinks; a full read is needed")
    return document


async def walk(
    client: GraphClient, first: str, permission: str
) -> AsyncIterator[tuple[list[dict[str, Any]], str | None]]:
    """The pages of one delta query: (items, None) per nextLink page, (items, deltaLink) last."""
    link = first
    while True:
        try:
            body = await client.get(link, permission=permission)
        except GraphHTTPError as error:
            if error.status == 410 or (error.status in {400, 404} and error.code.casefold() in RESYNC_CODES):
                raise CursorExpiredError(
                    f"Graph no longer knows this delta state ({error.status} {error.code})"
                ) from error
            raise
        items = [i for i in body.get("value") or () if isinstance(i, dict) and i.get("id")]
        next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
        del body  # one page in memory: the next is fetched only after this one is dropped
        if isinstance(next_link, str):
            yield items, None
            del items
            link = next_link
        elif isinstance(delta_link, str):
            yield items, delta_link
            return
        else:
            raise SourceUnavailableError("Graph returned a delta page with neither nextLink nor deltaLink")


class GraphRound:
    """A `Round` over Graph; see the module docstring."""

    def __init__(
        self,
        client: GraphClient,
        settings: GraphSettings,
        kind: RoundKind,
        *,
        users_link: str,
        groups_link: str,
        scope: Scope | None,
    ) -> None:
        self.kind: RoundKind = kind
        self._client = client
        self._settings = settings
        self._users_link = users_link
        self._groups_link = groups_link
        self._scope = scope
        self._cursor: str | None = None

    @classmethod
    def full(cls, client: GraphClient, settings: GraphSettings, scope: Scope | None) -> GraphRound:
        return cls(
            client,
            settings,
            "full",
            users_link=f"/users/delta?$select={quote(USER_SELECT, safe=',')}",
            groups_link=f"/groups/delta?$select={quote(GROUP_SELECT, safe=',')}",
            scope=scope,
        )

    @property
    def cursor(self) -> str | None:
        return self._cursor

    async def pages(self) -> AsyncIterator[Page]:
        links: list[str] = []
        async for page in self._user_pages(links):
            yield page
        async for page in self._group_pages(links):
            yield page
        if len(links) != 2:
            raise SourceUnavailableError("the Graph round ended without a deltaLink")
        self._cursor = encode_cursor(links[0], links[1], self._scope)

    async def _user_pages(self, links: list[str]) -> AsyncIterator[Page]:
        full = self.kind == "full"
        scope = self._scope
        async for items, final in walk(self._client, self._users_link, USERS_PERMISSION):
            users: list[UserRecord] = []
            removals: list[Removal] = []
            for item in items:
                record = user_record(item, full=full)
                if isinstance(record, Removal):
                    removals.append(record)
                elif scope is None or record.source_id in scope.users:
                    users.append(record)
            if full and self._settings.managers_by_batch and users:
                managers = await managers_of(
                    self._client, [u.source_id for u in users], self._settings.max_retries
                )
                users = [UserRecord(u.source_id, u.attributes, managers.get(u.source_id)) for u in users]
            del items
            if users or removals:
                yield Page(users=tuple(users), removals=tuple(removals))
            del users, removals
            if final is not None:
                links.append(final)

    async def _group_pages(self, links: list[str]) -> AsyncIterator[Page]:
        full = self.kind == "full"
        scope = self._scope
        # Graph repeats a large group on successive pages, each with a slice of its members
        # (§5.4): only the last group of a page can go on, so only it is held back.
        pending: dict[str, GroupRecord] = {}
        async for items, final in walk(self._client, self._groups_link, GROUPS_PERMISSION):
            here: dict[str, GroupRecord] = {}
            removals: list[Removal] = []
            last: str | None = None
            for item in items:
                group = group_record(item, full=full)
                last = None
                if isinstance(group, Removal):
                    removals.append(group)
                    here.pop(group.source_id, None)
                    pending.pop(group.source_id, None)
                    continue
                if scope is not None:
                    if group.source_id not in scope.groups:
                        continue
                    group = _within(group, scope)
                earlier = here.get(group.source_id) or pending.pop(group.source_id, None)
                here[group.source_id] = merge_groups(earlier, group) if earlier else group
                last = group.source_id
            del items
            ready = list(pending.values())
            pending = {}
            if full and last is not None and final is None:
                pending[last] = here.pop(last)
            ready.extend(here.values())
            del here
            if ready or removals:
                yield Page(groups=tuple(ready), removals=tuple(removals))
            del ready, removals
            if final is not None:
                links.append(final)
        if pending:
            yield Page(groups=tuple(pending.values()))


def _within(record: GroupRecord, scope: Scope) -> GroupRecord:
    """A scoped group keeps only members inside the scope (nesting to scoped groups only)."""
    return GroupRecord(
        record.source_id,
        record.attributes,
        member_users=record.member_users & scope.users,
        member_groups=record.member_groups & scope.groups,
        removed_members=record.removed_members,
        members_complete=record.members_complete,
    )
