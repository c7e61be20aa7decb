"""What differs between server families, behind one interface the LDAP reader drives.

The reader owns the connection (python-ldap, blocking, run in a worker thread), paging, timeouts,
TLS, DN -> immutable id resolution and turning entries into `UserRecord`/`GroupRecord`. A dialect
owns what the server family decides: which attribute is the immutable id and how it is encoded,
which attributes to ask for, what makes an account enabled, how a large `member` value is read,
and how changes since a watermark are found (syncrepl or timestamps on OpenLDAP; uSNChanged or
DirSync on AD) including how deletions are reported (tombstones, syncrepl deletes).

Entries are python-ldap's own shape, `(dn, {attribute: [bytes, ...]})`, so a dialect is tested
against the real server with the same objects the reader sees.

A watermark is an opaque string the dialect produces and reads back (JSON inside); the framework
stores it as the source's cursor only after the whole round is applied. A dialect raises
`CursorExpiredError` when a watermark can no longer be used (the AD DC's invocationId changed,
syncrepl answered e-syncRefreshRequired): the next round is then a full read.

How a dialect plugs in (`reader.make_dialect`): `openldap` is built in; `ad` is
`ad.ActiveDirectoryDialect(delta_mode=…, page_size=…)`, from the `delta` setting; any other
name `N` is the module `enlist.provisioning.sources.ldap.N` with a function
`make_dialect(settings: LdapSettings, dse: dict[str, list[bytes]], counter: Counter) -> Dialect`
(`dse` is the root DSE the round read; `counter.operations += 1` per LDAP operation sent, which
the benchmark and the tests count). Two optional attributes are read when present: `mode` (the
delta mechanism's name, shown by `source test`) and `reports_deletes` (False when the mechanism
cannot report deletions; informational, as every mechanism gets a scheduled full read). The
reader resolves member and manager DNs itself with `(distinguishedName=…)` filters on `ad`
(`entryDN` on `openldap`), so `member_dns` only has to return every DN.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

DialectName = Literal["ad", "openldap"]

Attributes = Mapping[str, Sequence[bytes]]
Entry = tuple[str, Attributes]
"""python-ldap's search result entry: the DN and the attribute values as bytes."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Where to look: base DNs and filters for users and for groups."""

    base_dns: tuple[str, ...]
    user_filter: str
    group_filter: str


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Part of a delta read: entries added or changed since the watermark (with every requested
    attribute, so the reader can map them whole), and the immutable ids of objects the server
    says are gone (a tombstone, a syncrepl delete). An object is never "gone" by absence."""

    users: tuple[Entry, ...] = ()
    groups: tuple[Entry, ...] = ()
    removed_users: tuple[str, ...] = ()
    removed_groups: tuple[str, ...] = ()


class DeltaRead(Protocol):
    """One delta read: iterate `batches()` to the end; only then is `watermark` the value to
    store for the next read."""

    def batches(self) -> Iterator[ChangeBatch]: ...

    @property
    def watermark(self) -> str: ...


class Dialect(Protocol):
    """One server family. `conn` is a bound `ldap.ldapobject.LDAPObject` (blocking)."""

    name: DialectName
    id_attribute: str
    """`objectGUID` (AD) or `entryUUID` (OpenLDAP)."""

    def immutable_id(self, entry: Entry) -> str:
        """The entry's immutable id as text (AD's objectGUID bytes_le -> canonical UUID)."""
        ...

    def user_attribute_names(self) -> tuple[str, ...]:
        """The attributes to request for users (operational ones named explicitly)."""
        ...

    def group_attribute_names(self) -> tuple[str, ...]: ...

    def account_enabled(self, entry: Entry) -> bool:
        """AD: userAccountControl bit 0x2 clear and accountExpires not passed; OpenLDAP: no
        pwdAccountLockedTime (or the configured rule)."""
        ...

    def member_dns(self, conn: Any, entry: Entry) -> list[str]:
        """Every member DN of a group entry, reading further ranges (`member;range=…`) when the
        server returned only the first."""
        ...

    def start_watermark(self, conn: Any, scope: Scope) -> str:
        """The watermark to store after a full read, taken *before* the read starts, so a change
        made during the read is read again next time rather than missed."""
        ...

    def read_changes(self, conn: Any, scope: Scope, watermark: str) -> DeltaRead:
        """Changes since `watermark`. Raises `CursorExpiredError` when it cannot be used."""
        ...
