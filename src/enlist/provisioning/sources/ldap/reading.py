"""One read of an LDAP server, as a blocking generator of pages (run step by step in a worker
thread by `reader`).

- A full round reads users then groups, paged, under each base DN; a member or manager DN is
  resolved to its immutable id by `Resolver` (batched, bounded memory). Its watermark is taken
  from the server *before* the first page, so a change made during the read is read again.
- A delta round asks the dialect for changes since the stored watermark; each changed entry is
  read whole (every attribute, every member), so it is mapped as in a full read (a group's
  members are complete); a removal comes only from the dialect (a syncrepl delete, a
  tombstone), never from absence.
- The cursor (`{"dialect", "watermark", "full_at", "deletes"}`) exists only once the last page
  was produced; a round cut off part-way has none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from enlist.provisioning.sources.ldap.connection import Connection, Counter, paged_search
from enlist.provisioning.sources.ldap.dialect import Dialect, Entry, Scope
from enlist.provisioning.sources.ldap.extensions import Extensions
from enlist.provisioning.sources.ldap.mapping import group_attributes, manager_dn, user_attributes
from enlist.provisioning.sources.ldap.resolve import Resolver, dn_key
from enlist.provisioning.sources.model import (
    CursorExpiredError,
    GroupRecord,
    Page,
    Removal,
    RoundKind,
    UserRecord,
)


@dataclass(frozen=True, slots=True)
class Cursor:
    dialect: str
    watermark: str
    full_at: str  # ISO time of the last full read
    deletes: bool  # whether the delta mechanism reports deletions

    def encode(self) -> str:
        return orjson.dumps(
            {
                "dialect": self.dialect,
                "watermark": self.watermark,
                "full_at": self.full_at,
                "deletes": self.deletes,
            }
        ).decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            document = orjson.loads(text)
            return cls(
                str(document["dialect"]),
                str(document["watermark"]),
                str(document["full_at"]),
                bool(document["deletes"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise CursorExpiredError("the stored LDAP cursor is unreadable; a full read is needed") from None

    def full_read_due(self, now: dt.datetime, hours: float) -> bool:
        """Whether the last full read is `hours` old: a full read finds what no delta mechanism
        reports (deletions under polling; member values refint or memberof rewrote behind
        syncprov's back, without a new entryCSN). `hours` 0 means never."""
        if hours <= 0:
            return False
        try:
            last = dt.datetime.fromisoformat(self.full_at)
        except ValueError:
            return True
        return now - last >= dt.timedelta(hours=hours)


class Mapper:
    """Entries of one round to records: ids, attributes (the custom ones in `extensions`, the
    login's domain `upn_domain`), manager and member ids."""

    def __init__(
        self,
        conn: Connection,
        dialect: Dialect,
        scope: Scope,
        resolver: Resolver,
        *,
        extensions: Extensions = (),
        upn_domain: str | None = None,
    ) -> None:
        self.conn, self.dialect, self.scope, self.resolver = conn, dialect, scope, resolver
        self.extensions, self.upn_domain = extensions, upn_domain

    def users(self, entries: tuple[Entry, ...] | list[Entry]) -> list[UserRecord]:
        ids = [self.dialect.immutable_id(entry) for entry in entries]
        for (dn, _), source_id in zip(entries, ids, strict=True):
            self.resolver.learn(dn, "user", source_id)  # a manager on the same page: no lookup
        managers = self.resolver.resolve(dn for dn in (manager_dn(a) for _, a in entries) if dn)
        records = []
        for entry, source_id in zip(entries, ids, strict=True):
            dn, attrs = entry
            boss_dn = manager_dn(attrs)
            boss = managers.get(dn_key(boss_dn)) if boss_dn else None
            records.append(
                UserRecord(
                    source_id,
                    user_attributes(
                        dn,
                        attrs,
                        source_id,
                        enabled=self.dialect.account_enabled(entry),
                        base_dns=self.scope.base_dns,
                        extensions=self.extensions,
                        upn_domain=self.upn_domain,
                    ),
                    boss[1] if boss is not None and boss[0] == "user" else None,
                )
            )
        return records

    def groups(self, entries: tuple[Entry, ...] | list[Entry]) -> list[GroupRecord]:
        members = {entry[0]: self.dialect.member_dns(self.conn, entry) for entry in entries}
        resolved = self.resolver.resolve(dn for dns in members.values() for dn in dns)
        records = []
        for entry in entries:
            dn, attrs = entry
            source_id = self.dialect.immutable_id(entry)
            self.resolver.learn(dn, "group", source_id)
            found = [resolved[k] for k in (dn_key(m) for m in members[dn]) if k in resolved]
            records.append(
                GroupRecord(
                    source_id,
                    group_attributes(dn, attrs, source_id),
                    member_users=frozenset(i for kind, i in found if kind == "user"),
                    member_groups=frozenset(i for kind, i in found if kind == "group" and i != source_id),
                    members_complete=True,
                )
            )
        return records


def _chunks(entries: tuple[Entry, ...], size: int) -> Iterator[tuple[Entry, ...]]:
    for start in range(0, len(entries), size):
        yield entries[start : start + size]


class LdapRound:
    """A `Round`'s pages as a blocking generator (`produce`), and its cursor once produced."""

    def __init__(
        self,
        kind: RoundKind,
        conn: Connection,
        dialect: Dialect,
        scope: Scope,
        *,
        page_size: int,
        counter: Counter,
        stored: Cursor | None,
        deltas: bool,
        deletes: bool,
        now: dt.datetime,
        extensions: Extensions = (),
        upn_domain: str | None = None,
    ) -> None:
        self.kind: RoundKind = kind
        self.conn, self.dialect, self.scope = conn, dialect, scope
        self.page_size, self.counter = page_size, counter
        self.stored, self.deltas, self.deletes, self.now = stored, deltas, deletes, now
        self.cursor: str | None = None
        resolver = Resolver(conn, dialect, scope, counter)
        self.mapper = Mapper(conn, dialect, scope, resolver, extensions=extensions, upn_domain=upn_domain)

    def produce(self) -> Iterator[Page]:
        if self.kind == "full":
            yield from self._full()
        else:
            yield from self._delta()

    def _search(self, filterstr: str, names: tuple[str, ...]) -> Iterator[list[Entry]]:
        for base in self.scope.base_dns:
            yield from paged_search(self.conn, base, filterstr, names, self.page_size, self.counter)

    def _full(self) -> Iterator[Page]:
        watermark = self.dialect.start_watermark(self.conn, self.scope) if self.deltas else None
        for entries in self._search(self.scope.user_filter, self.dialect.user_attribute_names()):
            users = self.mapper.users(entries)
            del entries
            if users:
                yield Page(users=tuple(users))
        for entries in self._search(self.scope.group_filter, self.dialect.group_attribute_names()):
            groups = self.mapper.groups(entries)
            del entries
            if groups:
                yield Page(groups=tuple(groups))
        if watermark is not None:
            self.cursor = Cursor(self.dialect.name, watermark, self.now.isoformat(), self.deletes).encode()

    def _delta(self) -> Iterator[Page]:
        assert self.stored is not None
        if self.stored.dialect != self.dialect.name:
            raise CursorExpiredError(f"the server is now read as {self.dialect.name}; a full read is needed")
        delta = self.dialect.read_changes(self.conn, self.scope, self.stored.watermark)
        for batch in delta.batches():
            for chunk in _chunks(batch.users, self.page_size):
                yield Page(users=tuple(self.mapper.users(chunk)))
            for chunk in _chunks(batch.groups, self.page_size):
                yield Page(groups=tuple(self.mapper.groups(chunk)))
            removals = [Removal("user", i, "deleted") for i in batch.removed_users]
            removals += [Removal("group", i, "deleted") for i in batch.removed_groups]
            if removals:
                yield Page(removals=tuple(removals))
        self.cursor = Cursor(self.dialect.name, delta.watermark, self.stored.full_at, self.deletes).encode()
