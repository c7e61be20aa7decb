"""The Active Directory dialect (Windows Server AD and Samba AD DCs).

What AD decides, per `Dialect`:

- The immutable id is `objectGUID`, 16 bytes in Microsoft's mixed-endian layout (`bytes_le`),
  given as canonical UUID text: the same text AD's own tools show.
- An account is enabled unless `userAccountControl` has ACCOUNTDISABLE (0x2) or `accountExpires`
  (a FILETIME; 0 and 0x7FFFFFFFFFFFFFFF mean never) has passed. A lockout does not disable:
  it ends by itself after the domain's lockout duration without any write a delta read could
  see, so a user disabled for a lockout would stay disabled downstream (ADR 0024).
  `locked_out` reports it for whoever wants to show it.
- `member` is read whole: when the DC returns `member;range=0-1499` (MaxValRange), the rest is
  fetched range by range, driven by the bounds the DC actually returns, until one ends in `*`.
  `member_range` N > 0 asks for ranges of N values from the first (`member;range=0-(N-1)`), so
  a DC without a MaxValRange (Samba) answers as Windows does; each further range read counts
  as one operation on `counter`.
- Deltas: `uSNChanged` polling against the DC's `highestCommittedUSN`, or DirSync when the bind
  account holds "Replicating Directory Changes" (`delta_mode` auto|usn|dirsync; auto prefers
  DirSync, whose cookie survives a switch to another DC). Both report deletions from tombstones,
  never by absence; see `ad_delta`.

Every method blocks (python-ldap); the reader calls them from a worker thread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import ldap

from enlist.provisioning.sources.ldap.ad_delta import (
    DirSyncDelta,
    UsnDelta,
    dirsync_start_cookie,
    naming_context_of,
    tombstones_visible,
)
from enlist.provisioning.sources.ldap.ad_entry import guid_text, integer, values
from enlist.provisioning.sources.ldap.ad_search import DIRSYNC_OID
from enlist.provisioning.sources.ldap.ad_watermark import (
    Watermark,
    check_same_database,
    read_domain_controller,
)
from enlist.provisioning.sources.ldap.connection import Counter
from enlist.provisioning.sources.ldap.dialect import Attributes, DeltaRead, DialectName, Entry, Scope
from enlist.provisioning.sources.model import CursorExpiredError, SourceUnavailableError

DeltaSetting = Literal["auto", "usn", "dirsync"]

ACCOUNTDISABLE = 0x0002
UF_LOCKOUT = 0x0010
"""In `msDS-User-Account-Control-Computed`, which AD computes from `lockoutTime` and the policy."""
ACCOUNT_NEVER_EXPIRES = (0, 0x7FFFFFFFFFFFFFFF)
_FILETIME_TICKS_PER_SECOND = 10_000_000
_FILETIME_UNIX_EPOCH = 116_444_736_000_000_000  # 1970-01-01 in 100 ns ticks since 1601-01-01
_RANGE = re.compile(r"^member;range=(\d+)-(\d+|\*)$", re.IGNORECASE)

USER_ATTRIBUTES = (
    "objectGUID",
    "objectClass",
    "userPrincipalName",
    "sAMAccountName",
    "mail",
    "proxyAddresses",
    "givenName",
    "sn",
    "displayName",
    "cn",
    "name",
    "title",
    "department",
    "division",
    "company",
    "employeeID",
    "employeeNumber",
    "employeeType",
    "telephoneNumber",
    "mobile",
    "physicalDeliveryOfficeName",
    "streetAddress",
    "l",
    "st",
    "postalCode",
    "co",
    "c",
    "preferredLanguage",
    "manager",
    "userAccountControl",
    "accountExpires",
    "lockoutTime",
    "primaryGroupID",
    # Operational, constructed or back-links: returned only when asked for by name.
    "msDS-User-Account-Control-Computed",
    "memberOf",
    "uSNChanged",
    "whenChanged",
    "whenCreated",
)
GROUP_ATTRIBUTES = (
    "objectGUID",
    "objectClass",
    "cn",
    "name",
    "sAMAccountName",
    "displayName",
    "description",
    "mail",
    "groupType",
    "managedBy",
    "member",
    "uSNChanged",
    "whenChanged",
)


class ActiveDirectoryDialect:
    """The AD dialect. Construct with the source's settings:

    `ActiveDirectoryDialect(delta_mode="auto", page_size=500)`; `extra_user_attributes` /
    `extra_group_attributes` add attributes to request (custom attribute mappings)."""

    name: DialectName = "ad"
    id_attribute = "objectGUID"

    def __init__(
        self,
        *,
        delta_mode: DeltaSetting = "auto",
        page_size: int = 500,
        extra_user_attributes: Sequence[str] = (),
        extra_group_attributes: Sequence[str] = (),
        member_range: int = 0,
        counter: Counter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.delta_mode: DeltaSetting = delta_mode
        self.page_size = page_size
        self._user_attributes = _merge(USER_ATTRIBUTES, extra_user_attributes)
        group_attributes = _merge(GROUP_ATTRIBUTES, extra_group_attributes)
        if member_range > 0:  # ask for the first range, as a Windows DC answers past MaxValRange
            ranged = f"member;range=0-{member_range - 1}"
            group_attributes = tuple(ranged if n.lower() == "member" else n for n in group_attributes)
        self._group_attributes = group_attributes
        self.member_range = member_range
        self._counter = counter
        self._clock = clock

    # -- records ---------------------------------------------------------------------------

    def immutable_id(self, entry: Entry) -> str:
        found = values(entry[1], "objectGUID")
        if not found:
            msg = f"{entry[0]} has no objectGUID: the bind account cannot read it"
            raise SourceUnavailableError(msg)
        return guid_text(found[0])

    def user_attribute_names(self) -> tuple[str, ...]:
        return self._user_attributes

    def group_attribute_names(self) -> tuple[str, ...]:
        return self._group_attributes

    def account_enabled(self, entry: Entry) -> bool:
        """False when ACCOUNTDISABLE is set or the account has expired; a missing
        `userAccountControl` (not readable) counts as enabled, as Entra Connect counts it."""
        attributes = entry[1]
        control = integer(attributes, "userAccountControl")
        if control is not None and control & ACCOUNTDISABLE:
            return False
        expires = integer(attributes, "accountExpires")
        if expires is None or expires in ACCOUNT_NEVER_EXPIRES:
            return True
        now = _FILETIME_UNIX_EPOCH + int(self._clock() * _FILETIME_TICKS_PER_SECOND)
        return expires > now

    def locked_out(self, entry: Entry) -> bool:
        """Whether the account is locked out now (`msDS-User-Account-Control-Computed` & 0x10).
        Not part of `account_enabled` (see the module docstring); an AD-only extra."""
        computed = integer(entry[1], "msDS-User-Account-Control-Computed")
        return computed is not None and bool(computed & UF_LOCKOUT)

    def member_dns(self, conn: Any, entry: Entry) -> list[str]:
        dn, attributes = entry
        members, next_low = _member_values(attributes)
        while next_low is not None:
            if self._counter is not None:
                self._counter.operations += 1
            found = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", [self._next_range(next_low)])
            more: Attributes = next((item[1] for item in found if item[0] is not None), {})
            page, following = _member_values(more)
            if following is not None and following <= next_low:
                msg = f"{dn}: the DC's member ranges do not advance (asked from {next_low})"
                raise SourceUnavailableError(msg)
            members.extend(page)
            next_low = following
        return members

    def _next_range(self, low: int) -> str:
        if self.member_range > 0:
            return f"member;range={low}-{low + self.member_range - 1}"
        return f"member;range={low}-*"

    # -- deltas ----------------------------------------------------------------------------

    def start_watermark(self, conn: Any, scope: Scope) -> str:
        _require_base_dn(scope)
        dc = read_domain_controller(conn)
        if self._use_dirsync(dc.supported_controls):
            naming_context = dc.default_naming_context
            try:
                cookie = dirsync_start_cookie(conn, naming_context)
            except ldap.INSUFFICIENT_ACCESS as error:
                if self.delta_mode == "dirsync":
                    msg = (
                        "DirSync was refused: the bind account needs 'Replicating Directory "
                        "Changes' on the domain (or set the delta mode to usn)"
                    )
                    raise SourceUnavailableError(msg) from error
            else:
                return Watermark("dirsync", dc.service_name, dc.invocation_id, dirsync_cookie=cookie).encode()
        return Watermark("usn", dc.service_name, dc.invocation_id, usn=dc.highest_committed_usn).encode()

    def read_changes(self, conn: Any, scope: Scope, watermark: str) -> DeltaRead:
        _require_base_dn(scope)
        mark = Watermark.decode(watermark)
        if self.delta_mode not in ("auto", mark.mode):
            msg = f"the delta mode changed from {mark.mode} to {self.delta_mode}; a full read follows"
            raise CursorExpiredError(msg)
        dc = read_domain_controller(conn)
        if mark.mode == "usn":
            check_same_database(mark, dc)
            if not self.deletions_visible(conn, scope):
                msg = (
                    "the bind account cannot read deleted objects (CN=Deleted Objects), so a "
                    "uSNChanged delta cannot see deletions: this round is a full read. Grant it "
                    "List Contents and Read Property there, or the right for DirSync"
                )
                raise CursorExpiredError(msg)
            return UsnDelta(self, conn, scope, mark, dc)
        return DirSyncDelta(self, conn, scope, mark, dc)

    def deletions_visible(self, conn: Any, scope: Scope) -> bool:
        """Whether the bind account can see tombstones in every naming context of the scope (an
        AD-only extra: without it, uSNChanged deltas expire into full reads)."""
        dc = read_domain_controller(conn)
        contexts = {naming_context_of(base, dc) for base in scope.base_dns}
        return all(tombstones_visible(conn, context) for context in contexts)

    def _use_dirsync(self, supported_controls: frozenset[str]) -> bool:
        if self.delta_mode == "usn":
            return False
        if DIRSYNC_OID in supported_controls:
            return True
        if self.delta_mode == "dirsync":
            msg = "the domain controller does not offer DirSync; set the delta mode to usn"
            raise SourceUnavailableError(msg)
        return False


def _require_base_dn(scope: Scope) -> None:
    if not scope.base_dns:
        msg = "the source has no base DN to read"
        raise SourceUnavailableError(msg)


def _merge(base: Sequence[str], extra: Sequence[str]) -> tuple[str, ...]:
    seen = {name.lower() for name in base}
    return (*base, *(name for name in extra if name.lower() not in seen))


def _member_values(attributes: Attributes) -> tuple[list[str], int | None]:
    """The member DNs in `attributes` and where the next range starts (None: no more)."""
    for key, found in attributes.items():
        match = _RANGE.match(key)
        if match is not None:
            high = match.group(2)
            return [value.decode() for value in found], None if high == "*" else int(high) + 1
    return [value.decode() for value in values(attributes, "member")], None
