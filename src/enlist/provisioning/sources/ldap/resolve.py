"""Member and manager DNs to immutable ids, without holding the tree in memory.

A page of entries names DNs (`manager`, `member`); the resolver looks up the ones it has not
seen in batches, one search per base DN and kind with a filter of up to `BATCH` DNs
(`(&(user filter)(|(entryDN=…)…))`; `distinguishedName` on AD), so resolving costs about one
search per `BATCH` new DNs, never one per DN. What it learnt is kept in a bounded LRU map
(`capacity` DNs): memory stays bounded whatever the tree's size, at the cost of looking a DN up
again once it has been evicted.

Only objects inside the source's scope resolve (the user or group filter, under a base DN): a
member or manager outside it, or a DN that no longer exists (a dangling `member` value refint
could not remove), resolves to nothing and is left out.

The lookups are not paged: they run while a paged read is under way on the same connection,
and OpenLDAP keeps one paged search per connection (a second one invalidates the first's
cookie). A batch names at most `BATCH` DNs, so it returns at most `BATCH` entries per search,
under any server's default size limit (OpenLDAP 500, AD 1000).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Literal

import ldap.filter

from enlist.provisioning.sources.ldap.connection import Connection, Counter, search
from enlist.provisioning.sources.ldap.dialect import Dialect, Scope

Kind = Literal["user", "group"]
BATCH = 200


_SEPARATOR = re.compile(r"\s*(?<!\\),\s*")


def dn_key(dn: str) -> str:
    """A DN in one spelling, for comparing the DNs one server returns: case-folded, without
    spaces around the commas between RDNs (an escaped comma is part of a value)."""
    return _SEPARATOR.sub(",", dn.strip()).casefold()


class Resolver:
    """DN -> (kind, immutable id) for one round; see the module docstring."""

    def __init__(
        self,
        conn: Connection,
        dialect: Dialect,
        scope: Scope,
        counter: Counter | None = None,
        *,
        capacity: int = 20_000,
    ) -> None:
        self._conn = conn
        self._dialect = dialect
        self._scope = scope
        self._counter = counter
        self._capacity = capacity
        self._known: OrderedDict[str, tuple[Kind, str] | None] = OrderedDict()
        self._dn_attribute = "entryDN" if dialect.name == "openldap" else "distinguishedName"

    def learn(self, dn: str, kind: Kind, source_id: str) -> None:
        """Remember an entry the round read anyway (saves a lookup when it is named later)."""
        self._remember(dn_key(dn), (kind, source_id))

    def _remember(self, key: str, value: tuple[Kind, str] | None) -> None:
        self._known[key] = value
        self._known.move_to_end(key)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def resolve(self, dns: Iterable[str]) -> dict[str, tuple[Kind, str]]:
        """The DNs (by `dn_key`) that name an object in scope, with its kind and id. The answer
        is whole even when it names more DNs than the cache holds (a group of 50,000)."""
        found: dict[str, tuple[Kind, str]] = {}
        missing: dict[str, str] = {}
        for dn in dns:
            key = dn_key(dn) if dn else ""
            if not key or key in found or key in missing:
                continue
            if key in self._known:
                value = self._known[key]
                self._known.move_to_end(key)
                if value is not None:
                    found[key] = value
            else:
                missing[key] = dn
        pending = list(missing.items())
        for start in range(0, len(pending), BATCH):
            found.update(self._look_up(dict(pending[start : start + BATCH])))
        return found

    def _look_up(self, dns: dict[str, str]) -> dict[str, tuple[Kind, str]]:
        """Look up `{key: dn}`: users first, then groups among the DNs that were not users."""
        found: dict[str, tuple[Kind, str]] = {}
        kinds: tuple[tuple[Kind, str], ...] = (
            ("user", self._scope.user_filter),
            ("group", self._scope.group_filter),
        )
        for kind, object_filter in kinds:
            left = [dn for key, dn in dns.items() if key not in found]
            if not left:
                break
            alternatives = "".join(
                f"({self._dn_attribute}={ldap.filter.escape_filter_chars(dn)})" for dn in left
            )
            for base in self._scope.base_dns:
                filterstr = f"(&{object_filter}(|{alternatives}))"
                for dn, attrs in search(
                    self._conn, base, filterstr, [self._dialect.id_attribute], self._counter
                ):
                    key = dn_key(dn)
                    if key in dns and key not in found:
                        found[key] = (kind, self._dialect.immutable_id((dn, attrs)))
        for key in dns:
            self._remember(key, found.get(key))
        return found
