"""AD delta reads: uSNChanged polling and DirSync, both ending in whole entries and removed ids.

uSNChanged (MS-USN): `highestCommittedUSN` is read first (by the caller, `read_domain_controller`),
then, from the watermark's USN + 1:
1. in scope: every user and group under each base DN matching its filter with a newer
   `uSNChanged`, with every requested attribute (creates, edits, renames, moves in, restores,
   membership changes: a group's `member` change bumps the group, never the member);
2. tombstones: the same USN test under the Show Deleted control with `isDeleted=TRUE`, by
   `objectClass` only (AD strips `objectCategory` from tombstones), with or without the Recycle
   Bin: every deleted user or group is reported removed, by id;
3. leavers: users and groups changed since the watermark that are no longer in scope (moved to
   another OU, no longer matching the filter) are reported removed too. A removal of an id the
   directory never held changes nothing, so leavers need not be known to have been in scope.

DirSync (MS-DIRSYNC) finds the changed objects of the whole naming context and their tombstones
itself, with its own cookie; it returns only changed attributes, so changed objects are read
again whole, in scope (the `ChangeBatch` contract), and the ones not in scope are leavers.

Removals come only from tombstones and leavers: an object is never removed for being absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import ldap

from enlist.provisioning.sources.ldap.ad_entry import guid_filter_value, is_group, values
from enlist.provisioning.sources.ldap.ad_search import dirsync_search, paged_search, show_deleted
from enlist.provisioning.sources.ldap.ad_watermark import DomainController, Watermark
from enlist.provisioning.sources.ldap.dialect import ChangeBatch, Entry, Scope
from enlist.provisioning.sources.model import CursorExpiredError

if TYPE_CHECKING:
    from enlist.provisioning.sources.ldap.ad import ActiveDirectoryDialect

USERS_AND_GROUPS = "(|(objectClass=user)(objectClass=group))"
PEOPLE_AND_GROUPS = f"(&{USERS_AND_GROUPS}(!(objectClass=computer)))"
_GUID_CHUNK = 100
DELETED_OBJECTS_WKGUID = "18E2EA80684F11D2B9AA00C04F79F805"
# Constructed attributes and back-links cannot be asked of DirSync, and whenChanged/uSNChanged
# change on every write (a logon timestamp too), which would return objects with nothing new.
_NOT_FOR_DIRSYNC = frozenset(
    {"memberof", "msds-user-account-control-computed", "usnchanged", "whenchanged", "whencreated"}
)
_DIRSYNC_EXTRA = ("isDeleted", "name", "parentGUID")


def dirsync_start_cookie(conn: Any, naming_context: str) -> bytes:
    """A DirSync cookie for "now", without reading the directory: a DirSync search whose filter
    matches nothing still returns the server's current cookie."""
    nothing = "(&(objectClass=user)(objectClass=group)(objectClass=organizationalUnit))"
    cookies = [cookie for _, cookie in dirsync_search(conn, naming_context, nothing, ["objectGUID"], b"")]
    return cookies[-1]


def naming_context_of(base_dn: str, dc: DomainController) -> str:
    """The naming context (partition root) holding `base_dn`: the longest one it ends with."""
    base = base_dn.replace(", ", ",").lower()
    matches = [
        context
        for context in dc.naming_contexts
        if base == context.lower() or base.endswith("," + context.lower())
    ]
    return max(matches, key=len) if matches else dc.default_naming_context


def _guid_filter(guids: Iterable[str]) -> str:
    return "(|" + "".join(f"(objectGUID={guid_filter_value(guid)})" for guid in guids) + ")"


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _GUID_CHUNK):
        yield items[start : start + _GUID_CHUNK]


class _AdDelta:
    """Shared bookkeeping: the watermark is readable only once `batches()` has run to the end."""

    def __init__(
        self, dialect: ActiveDirectoryDialect, conn: Any, scope: Scope, mark: Watermark, dc: DomainController
    ) -> None:
        self._dialect = dialect
        self._conn = conn
        self._scope = scope
        self._mark = mark
        self._dc = dc
        self._next: str | None = None
        self._contexts = sorted({naming_context_of(base, dc) for base in scope.base_dns})

    @property
    def watermark(self) -> str:
        if self._next is None:
            msg = "the delta read has not been read to the end: its watermark is not final"
            raise RuntimeError(msg)
        return self._next

    def _search(
        self, base: str, filterstr: str, attributes: Sequence[str], **kw: Any
    ) -> Iterator[list[Entry]]:
        return paged_search(self._conn, base, filterstr, attributes, page_size=self._dialect.page_size, **kw)

    def _removals(self, entries: Iterable[Entry]) -> ChangeBatch:
        users: list[str] = []
        groups: list[str] = []
        for entry in entries:
            (groups if is_group(entry[1]) else users).append(self._dialect.immutable_id(entry))
        return ChangeBatch(removed_users=tuple(users), removed_groups=tuple(groups))

    def _in_scope(self, guids: Sequence[str]) -> Iterator[ChangeBatch]:
        """Read these objects again, whole, where the scope still holds them."""
        for chunk in _chunks(guids):
            by_guid = _guid_filter(chunk)
            for base in self._scope.base_dns:
                for page in self._search(
                    base, f"(&{self._scope.user_filter}{by_guid})", self._dialect.user_attribute_names()
                ):
                    yield ChangeBatch(users=tuple(page))
                for page in self._search(
                    base, f"(&{self._scope.group_filter}{by_guid})", self._dialect.group_attribute_names()
                ):
                    yield ChangeBatch(groups=tuple(page))


class UsnDelta(_AdDelta):
    """Changes since the watermark's USN on the same DC and database (checked by the caller)."""

    def batches(self) -> Iterator[ChangeBatch]:
        floor = f"(uSNChanged>={self._mark.usn + 1})"
        seen: set[str] = set()
        for base in self._scope.base_dns:
            for page in self._search(
                base, f"(&{self._scope.user_filter}{floor})", self._dialect.user_attribute_names()
            ):
                seen.update(self._dialect.immutable_id(entry) for entry in page)
                yield ChangeBatch(users=tuple(page))
            for page in self._search(
                base, f"(&{self._scope.group_filter}{floor})", self._dialect.group_attribute_names()
            ):
                seen.update(self._dialect.immutable_id(entry) for entry in page)
                yield ChangeBatch(groups=tuple(page))
        marks = ["objectGUID", "objectClass"]
        for context in self._contexts:
            for page in self._search(
                context, f"(&(isDeleted=TRUE){floor}{PEOPLE_AND_GROUPS})", marks, controls=[show_deleted()]
            ):
                yield self._removals(page)
            for page in self._search(context, f"(&{floor}{PEOPLE_AND_GROUPS})", marks):
                yield self._removals(entry for entry in page if self._dialect.immutable_id(entry) not in seen)
        self._next = Watermark(
            "usn", self._dc.service_name, self._dc.invocation_id, usn=self._dc.highest_committed_usn
        ).encode()


class DirSyncDelta(_AdDelta):
    """Changes since the watermark's DirSync cookie (any DC of the domain accepts it)."""

    def batches(self) -> Iterator[ChangeBatch]:
        cookie = self._mark.dirsync_cookie
        for page, latest in self._dirsync_pages():
            cookie = latest
            changed: list[str] = []
            deleted: list[str] = []
            for entry in page:
                flag = values(entry[1], "isDeleted")
                deleted_now = bool(flag) and flag[0].upper() == b"TRUE"
                (deleted if deleted_now else changed).append(self._dialect.immutable_id(entry))
            yield from self._changed(changed)
            yield from self._classified(deleted, deleted=True)
        self._next = Watermark(
            "dirsync", self._dc.service_name, self._dc.invocation_id, dirsync_cookie=cookie
        ).encode()

    def _dirsync_pages(self) -> Iterator[tuple[list[Entry], bytes]]:
        """The DirSync pages, with the errors that mean "this cookie or right is gone" turned
        into `CursorExpiredError`. DirSync reads one naming context: the first base DN's."""
        pages = dirsync_search(
            self._conn,
            self._contexts[0],
            USERS_AND_GROUPS,
            self._dirsync_attributes(),
            self._mark.dirsync_cookie,
        )
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except ldap.INSUFFICIENT_ACCESS as error:
                msg = "DirSync is no longer allowed for the bind account; a full read follows"
                raise CursorExpiredError(msg) from error
            except (
                ldap.PROTOCOL_ERROR,
                ldap.UNWILLING_TO_PERFORM,
                ldap.UNAVAILABLE_CRITICAL_EXTENSION,
                ldap.OTHER,
            ) as error:
                msg = (
                    f"the domain controller refused the stored DirSync cookie ({error}); a full read follows"
                )
                raise CursorExpiredError(msg) from error
            yield page

    def _dirsync_attributes(self) -> list[str]:
        names = [
            *self._dialect.user_attribute_names(),
            *self._dialect.group_attribute_names(),
            *_DIRSYNC_EXTRA,
        ]
        names = [name.split(";", 1)[0] for name in names]  # DirSync sends member values, not ranges
        unique = {name.lower(): name for name in names if name.lower() not in _NOT_FOR_DIRSYNC}
        return list(unique.values())

    def _changed(self, guids: list[str]) -> Iterator[ChangeBatch]:
        found: set[str] = set()
        for batch in self._in_scope(guids):
            found.update(self._dialect.immutable_id(entry) for entry in (*batch.users, *batch.groups))
            yield batch
        leavers = [guid for guid in guids if guid not in found]
        yield from self._classified(leavers, deleted=False)

    def _classified(self, guids: list[str], *, deleted: bool) -> Iterator[ChangeBatch]:
        """Removals for these ids, as user or group by their objectClass (computers dropped).

        A deleted object the bind account cannot see under Show Deleted (DirSync reported it,
        but `CN=Deleted Objects` is not readable to the account) is removed as both kinds: the
        id is an objectGUID, so the wrong kind names nothing and changes nothing."""
        controls = [show_deleted()] if deleted else []
        for chunk in _chunks(guids):
            found: set[str] = set()
            for context in self._contexts:
                for page in self._search(
                    context,
                    f"(&{USERS_AND_GROUPS}{_guid_filter(chunk)})",
                    ["objectGUID", "objectClass"],
                    controls=controls,
                ):
                    found.update(self._dialect.immutable_id(entry) for entry in page)
                    people = [entry for entry in page if not _is_computer(entry)]
                    yield self._removals(people)
            unseen = tuple(guid for guid in chunk if guid not in found)
            if deleted and unseen:
                yield ChangeBatch(removed_users=unseen, removed_groups=unseen)


def _is_computer(entry: Entry) -> bool:
    return any(value.lower() == b"computer" for value in values(entry[1], "objectClass"))


def tombstones_visible(conn: Any, naming_context: str) -> bool:
    """Whether the bind account can read tombstones (the Deleted Objects container under Show
    Deleted). By default only administrators can; without it a uSNChanged delta cannot see a
    deletion."""
    container = f"<WKGUID={DELETED_OBJECTS_WKGUID},{naming_context}>"
    try:
        found = conn.search_ext_s(
            container, ldap.SCOPE_BASE, "(objectClass=*)", ["objectGUID"], serverctrls=[show_deleted()]
        )
    except (ldap.NO_SUCH_OBJECT, ldap.INSUFFICIENT_ACCESS):
        return False
    return any(dn is not None and values(attributes, "objectGUID") for dn, attributes in found)
