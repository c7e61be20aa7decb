"""The OpenLDAP dialect: `entryUUID`, syncrepl refreshOnly or entryCSN polling (§2.5.1-2.5.2).

Watermarks (JSON):

- `{"mode": "syncrepl", "cookies": {"user|BASE": cookie, "group|BASE": cookie}}`: one RFC 4533
  refreshOnly search per kind and base DN, each resumed from its own cookie. The first cookie
  is made from the naming context's `contextCSN` read *before* a full read starts
  (`rid=000,csn=…`), so a change made during the full read is sent again, never missed.
  Deleted entries come as syncrepl deletes (the provider's session log); when the provider
  answers with a present phase instead (no session log, or one that no longer reaches back to
  the cookie) it cannot say what was deleted except by the set of every id, so the delta is
  abandoned with `CursorExpiredError` and the round is read full. e-syncRefreshRequired
  (4096) is `CursorExpiredError` too.
- `{"mode": "timestamp", "csn": "…"}`: a paged search for `(entryCSN>=csn)` within the
  filters; the next watermark is the `contextCSN` read before that search. Polling never
  reports a deletion: the reader finds those by a full read on its slower schedule.

Enabled: no `disabled_attribute` (ppolicy's `pwdAccountLockedTime`, any value: a lock with a
duration still counts, as the account cannot log in now); `nsAccountLock` counts only as TRUE.
Members: `member` (groupOfNames) and `uniqueMember` (groupOfUniqueNames, `#uid` suffix cut);
`memberUid` (posixGroup) holds uids, not DNs, and is not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import ldap
import ldap.filter
import ldap.syncrepl
import orjson

from enlist.provisioning.sources.ldap.connection import (
    Connection,
    Counter,
    failure_of,
    paged_search,
    root_dse,
    search_base,
)
from enlist.provisioning.sources.ldap.dialect import (
    ChangeBatch,
    DeltaRead,
    DialectName,
    Entry,
    Scope,
)
from enlist.provisioning.sources.ldap.mapping import GROUP_ATTRIBUTES, USER_ATTRIBUTES
from enlist.provisioning.sources.model import CursorExpiredError

SYNC_CONTROL = "1.3.6.1.4.1.4203.1.9.1.1"
SYNC_REFRESH_REQUIRED = 0x1000
EPOCH_CSN = "19700101000000.000000Z#000000#000#000000"
Mode = Literal["syncrepl", "timestamp"]
Kind = Literal["user", "group"]


def _watermark(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode()


def _read_watermark(watermark: str) -> dict[str, Any]:
    try:
        document = orjson.loads(watermark)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict) or document.get("mode") not in {"syncrepl", "timestamp"}:
        raise CursorExpiredError("the stored OpenLDAP watermark is unreadable; a full read is needed")
    return document


def context_csn(conn: Connection, base_dns: tuple[str, ...], counter: Counter | None = None) -> list[str]:
    """Every `contextCSN` of the naming contexts that hold the base DNs (one per provider)."""
    contexts = [v.decode() for v in root_dse(conn, counter).get("namingContexts", ())]
    found: set[str] = set()
    for base in base_dns:
        suffix = max((c for c in contexts if base.casefold().endswith(c.casefold())), key=len, default=base)
        entry = search_base(conn, suffix, ["contextCSN"], counter)
        if entry is not None:
            found.update(v.decode() for v in entry[1].get("contextCSN", ()))
    return sorted(found)


class _Consumer(ldap.syncrepl.SyncreplConsumer):  # type: ignore[misc]
    """python-ldap's syncrepl state machine over a connection the reader owns: it sends and
    receives through `conn`, and collects what one refreshOnly search reports."""

    def __init__(self, conn: Connection, cookie: str) -> None:
        self._conn = conn
        self.cookie = cookie
        self.entries: dict[str, Entry] = {}
        self.deleted: set[str] = set()
        self.present_phase = False
        self.presented = 0

    def search_ext(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.search_ext(*args, **kwargs)

    def result4(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.result4(*args, **kwargs)

    def syncrepl_get_cookie(self) -> str:
        return self.cookie

    def syncrepl_set_cookie(self, cookie: str | bytes) -> None:
        self.cookie = cookie.decode() if isinstance(cookie, bytes) else cookie

    def syncrepl_entry(self, dn: str, attrs: dict[str, list[bytes]], uuid: str) -> None:
        self.entries[uuid] = (dn, attrs)
        self.deleted.discard(uuid)

    def syncrepl_delete(self, uuids: list[str]) -> None:
        for uuid in uuids:
            self.deleted.add(uuid)
            self.entries.pop(uuid, None)

    def syncrepl_present(self, uuids: list[str] | None, refreshDeletes: bool = False) -> None:  # noqa: N803 - python-ldap's signature
        if uuids is None:
            if not refreshDeletes:
                self.present_phase = True
        else:
            self.presented += len(uuids)

    def syncrepl_refreshdone(self) -> None:
        return None


@dataclass
class _SyncreplRead:
    dialect: OpenLdapDialect
    conn: Connection
    scope: Scope
    cookies: dict[str, str]
    counter: Counter | None = None
    _new: dict[str, str] = field(default_factory=dict)

    def batches(self) -> Iterator[ChangeBatch]:
        # Entries are handed on a page at a time as they arrive; deletions at the end. A delete
        # from one query means "no longer in this query's results": the provider's session log
        # cannot tell a deleted entry from a changed one that no longer matches the filter (a
        # user, for the groups' query; an entry moved to another base DN). So a delete is a
        # removal of that kind only, and none for an id another query sent as an entry. Within
        # one query the last event wins (the consumer keeps it so).
        queries: list[tuple[Kind, set[str], set[str]]] = []
        for kind in ("user", "group"):
            for base in self.scope.base_dns:
                key = f"{kind}|{base}"
                if key not in self.cookies:
                    raise CursorExpiredError(f"no syncrepl cookie for {key}; a full read is needed")
                consumer = _Consumer(self.conn, self.cookies[key])
                sent: set[str] = set()
                for entries in self._refresh(consumer, kind, base):
                    sent.update(self.dialect.immutable_id(entry) for entry in entries)
                    yield ChangeBatch(users=entries) if kind == "user" else ChangeBatch(groups=entries)
                self._new[key] = consumer.cookie
                queries.append((kind, sent, consumer.deleted))
        for index, (kind, _, deleted) in enumerate(queries):
            others = set().union(*(q[1] for i, q in enumerate(queries) if i != index))
            removed = tuple(sorted(deleted - others))
            if removed:
                yield (
                    ChangeBatch(removed_users=removed)
                    if kind == "user"
                    else ChangeBatch(removed_groups=removed)
                )

    def _refresh(self, consumer: _Consumer, kind: Kind, base: str) -> Iterator[tuple[Entry, ...]]:
        """One refreshOnly search, its entries a page (`page_size`) at a time."""
        filterstr = self.scope.user_filter if kind == "user" else self.scope.group_filter
        names = (
            self.dialect.user_attribute_names() if kind == "user" else self.dialect.group_attribute_names()
        )
        size = self.dialect.page_size
        try:
            msgid = consumer.syncrepl_search(
                base, ldap.SCOPE_SUBTREE, mode="refreshOnly", filterstr=filterstr, attrlist=list(names)
            )
            while consumer.syncrepl_poll(msgid=msgid, all=0, timeout=self.dialect.timeout):
                if len(consumer.entries) >= size:
                    yield tuple(consumer.entries.values())
                    consumer.entries.clear()
        except ldap.LDAPError as error:
            info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
            if info.get("result") == SYNC_REFRESH_REQUIRED:
                raise CursorExpiredError(
                    "the OpenLDAP provider asked for a full refresh (e-syncRefreshRequired)"
                ) from None
            if isinstance(error, ldap.UNWILLING_TO_PERFORM) and "newer than provider" in str(
                info.get("info")
            ):
                # The server's data is older than the cookie (restored from a backup, rebuilt):
                # the cookie means nothing there any more.
                raise CursorExpiredError(
                    "the OpenLDAP provider's state is older than the stored cookie (restored or rebuilt)"
                ) from None
            raise failure_of(error, base, filterstr) from None
        finally:
            if self.counter is not None:
                self.counter.operations += 1
        if consumer.present_phase:
            # What was staged of this round is discarded: the framework reads full at once.
            raise CursorExpiredError(
                "the OpenLDAP provider answered with a present phase (no session log reaching back "
                "to the cookie): deletions are found by a full read"
            )
        if consumer.entries:
            yield tuple(consumer.entries.values())

    @property
    def watermark(self) -> str:
        return _watermark({"mode": "syncrepl", "cookies": {**self.cookies, **self._new}})


@dataclass
class _TimestampRead:
    dialect: OpenLdapDialect
    conn: Connection
    scope: Scope
    since: str
    counter: Counter | None = None
    _next: str | None = None

    def batches(self) -> Iterator[ChangeBatch]:
        csns = context_csn(self.conn, self.scope.base_dns, self.counter)
        newest = max(csns, default=self.since)
        since = ldap.filter.escape_filter_chars(self.since or EPOCH_CSN)
        for kind in ("user", "group"):
            object_filter = self.scope.user_filter if kind == "user" else self.scope.group_filter
            names = (
                self.dialect.user_attribute_names()
                if kind == "user"
                else self.dialect.group_attribute_names()
            )
            for base in self.scope.base_dns:
                for page in paged_search(
                    self.conn,
                    base,
                    f"(&{object_filter}(entryCSN>={since}))",
                    names,
                    self.dialect.page_size,
                    self.counter,
                ):
                    yield (
                        ChangeBatch(users=tuple(page)) if kind == "user" else ChangeBatch(groups=tuple(page))
                    )
        self._next = newest

    @property
    def watermark(self) -> str:
        if self._next is None:
            raise RuntimeError("the timestamp delta was not read to its end")
        return _watermark({"mode": "timestamp", "csn": self._next})


class OpenLdapDialect:
    """See the module docstring. `mode` is the delta mechanism; `disabled_attribute` the rule."""

    name: DialectName = "openldap"
    id_attribute = "entryUUID"

    def __init__(
        self,
        mode: Mode = "syncrepl",
        *,
        disabled_attribute: str = "pwdAccountLockedTime",
        page_size: int = 500,
        timeout: float = 60.0,
        counter: Counter | None = None,
        extra_user_attributes: tuple[str, ...] = (),
    ) -> None:
        self.mode: Mode = mode
        self._extra_user_attributes = extra_user_attributes  # custom attribute mappings
        self.disabled_attribute = disabled_attribute
        self.page_size = page_size
        self.timeout = timeout
        self.counter = counter

    @staticmethod
    def supports_syncrepl(dse: dict[str, list[bytes]]) -> bool:
        return SYNC_CONTROL in {v.decode() for v in dse.get("supportedControl", ())}

    def immutable_id(self, entry: Entry) -> str:
        values = entry[1].get("entryUUID") or ()
        if not values:
            raise CursorExpiredError(f"the entry {entry[0]!r} came without entryUUID")
        return values[0].decode().lower()

    def user_attribute_names(self) -> tuple[str, ...]:
        names = (*USER_ATTRIBUTES, "entryUUID", self.disabled_attribute)
        known = {name.casefold() for name in names}
        return (*names, *(a for a in self._extra_user_attributes if a.casefold() not in known))

    def group_attribute_names(self) -> tuple[str, ...]:
        return (*GROUP_ATTRIBUTES, "entryUUID", "member", "uniqueMember")

    def account_enabled(self, entry: Entry) -> bool:
        attrs = entry[1]
        folded = self.disabled_attribute.casefold()
        values = next((v for k, v in attrs.items() if k.casefold() == folded), ())
        if not values:
            return True
        if folded == "nsaccountlock":
            return values[0].decode().strip().casefold() != "true"
        return False

    def member_dns(self, conn: Connection, entry: Entry) -> list[str]:
        del conn  # OpenLDAP returns every value at once
        attrs = entry[1]
        dns = [v.decode() for v in attrs.get("member", ())]
        dns.extend(v.decode().split("#", 1)[0] for v in attrs.get("uniqueMember", ()))
        return dns

    def start_watermark(self, conn: Connection, scope: Scope) -> str:
        csns = context_csn(conn, scope.base_dns, self.counter)
        if self.mode == "timestamp":
            return _watermark({"mode": "timestamp", "csn": max(csns, default="")})
        cookie = "rid=000" + (f",csn={';'.join(csns)}" if csns else "")
        return _watermark(
            {
                "mode": "syncrepl",
                "cookies": {
                    f"{kind}|{base}": cookie for kind in ("user", "group") for base in scope.base_dns
                },
            }
        )

    def read_changes(self, conn: Connection, scope: Scope, watermark: str) -> DeltaRead:
        document = _read_watermark(watermark)
        if document["mode"] != self.mode:
            raise CursorExpiredError(f"the stored watermark is for {document['mode']}; a full read is needed")
        if self.mode == "timestamp":
            return _TimestampRead(self, conn, scope, str(document.get("csn") or ""), self.counter)
        return _SyncreplRead(self, conn, scope, dict(document.get("cookies") or {}), self.counter)
