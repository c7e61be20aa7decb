"""The LDAP source reader: `check()` for `source test`, `start_round()` for reads.

python-ldap blocks, so every LDAP call runs in `LDAP_THREADS`, a small pool shared by every LDAP
source of the process (bounded concurrency: at most `MAX_THREADS` LDAP operations at once); the
event loop only waits. A round's pages come from a blocking generator stepped one page at a
time in that pool; the round's connection is closed (in the pool too) when its pages end, stop
or fail. A round holds one connection; a reader holds none between rounds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import threading
from collections.abc import AsyncIterator, Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import ldap
import orjson

from enlist.provisioning.sources.ldap.connection import (
    Connection,
    Counter,
    LdapStepError,
    connect,
    failure_of,
    guess_dialect,
    paged_search,
    probe_network,
    root_dse,
    search_base,
)
from enlist.provisioning.sources.ldap.dialect import Dialect, Scope
from enlist.provisioning.sources.ldap.openldap import OpenLdapDialect
from enlist.provisioning.sources.ldap.reading import Cursor, LdapRound
from enlist.provisioning.sources.ldap.settings import LdapSettings
from enlist.provisioning.sources.model import CheckResult, Page, RoundKind, SourceUnavailableError

MAX_THREADS = 4
LDAP_THREADS = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="ldap")
T = TypeVar("T")
_END = object()


async def in_thread(work: Callable[..., T], *args: Any) -> T:
    """Run blocking LDAP work in the LDAP pool (never on the event loop)."""
    return await asyncio.get_running_loop().run_in_executor(LDAP_THREADS, work, *args)


def _unbind(conn: Connection) -> None:
    try:
        conn.unbind_s()
    except ldap.LDAPError:
        return


def make_dialect(settings: LdapSettings, dse: dict[str, list[bytes]], counter: Counter) -> Dialect:
    """The dialect the settings name, or the one the root DSE shows (`auto`). A dialect module
    other than `openldap` plugs in as `enlist.provisioning.sources.ldap.<name>` with a
    `make_dialect(settings, dse, counter)` function (the AD dialect: `ad`)."""
    name = settings.dialect if settings.dialect != "auto" else guess_dialect(dse)
    custom = tuple(attribute for _, attribute in settings.attributes)  # read with every user
    if name == "openldap":
        mode = settings.delta
        if mode in {"auto", "none"}:
            mode = "syncrepl" if OpenLdapDialect.supports_syncrepl(dse) else "timestamp"
        if mode not in {"syncrepl", "timestamp"}:
            raise LdapStepError(
                "config", f"delta {settings.delta!r} is not an OpenLDAP mechanism (syncrepl, timestamp)"
            )
        return OpenLdapDialect(
            mode,
            disabled_attribute=settings.disabled_attribute,
            page_size=settings.page_size,
            timeout=settings.timeout,
            counter=counter,
            extra_user_attributes=custom,
        )
    try:
        module = importlib.import_module(f"enlist.provisioning.sources.ldap.{name}")
    except ImportError:
        raise LdapStepError("config", f"this version of enlist has no {name!r} LDAP dialect") from None
    factory: Callable[[LdapSettings, dict[str, list[bytes]], Counter], Dialect] | None
    factory = getattr(module, "make_dialect", None)
    if factory is not None:
        made: Dialect = factory(settings, dse, counter)
        return made
    if name == "ad":  # `ad.ActiveDirectoryDialect(delta_mode=auto|usn|dirsync, page_size=…)`
        if settings.delta in {"syncrepl", "timestamp"}:
            raise LdapStepError("config", f"delta {settings.delta!r} is not an AD mechanism (usn, dirsync)")
        mode = settings.delta if settings.delta in {"usn", "dirsync"} else "auto"
        dialect: Dialect = module.ActiveDirectoryDialect(
            delta_mode=mode,
            page_size=settings.page_size,
            extra_user_attributes=custom,
            member_range=settings.member_range,
            counter=counter,
        )
        return dialect
    raise LdapStepError("config", f"the {name!r} LDAP dialect has no make_dialect")


def reports_deletes(dialect: Dialect) -> bool:
    """Whether the dialect's delta mechanism reports deletions (timestamp polling does not)."""
    return bool(getattr(dialect, "mode", "") != "timestamp" and getattr(dialect, "reports_deletes", True))


class LdapReaderRound:
    """A `Round` whose pages are produced in the LDAP pool; see the module docstring."""

    def __init__(self, reader: LdapReader, kind: RoundKind, stored: Cursor | None) -> None:
        self.kind: RoundKind = kind
        self._reader = reader
        self._stored = stored
        self._cursor: str | None = None

    @property
    def cursor(self) -> str | None:
        return self._cursor

    def _produce(self) -> Generator[Page, None, None]:
        reader = self._reader
        settings = reader.settings
        counter = reader.counter
        conn = connect(settings, counter)
        try:
            dse = root_dse(conn, counter)
            dialect = make_dialect(settings, dse, counter)
            reader.dialect_name = dialect.name
            inner = LdapRound(
                self.kind,
                conn,
                dialect,
                reader.scope,
                page_size=settings.page_size,
                counter=counter,
                stored=self._stored,
                deltas=settings.delta != "none",
                deletes=reports_deletes(dialect),
                now=dt.datetime.now(dt.UTC),
                extensions=settings.attributes,
                upn_domain=settings.upn_domain,
            )
            yield from inner.produce()
            self._cursor = inner.cursor
        except ldap.LDAPError as error:  # a dialect's own search (AD's DirSync, ranges, tombstones)
            raise failure_of(error, settings.base_dns[0], settings.user_filter) from None
        finally:
            _unbind(conn)

    async def pages(self) -> AsyncIterator[Page]:
        produced = self._produce()
        # A cancelled read leaves its step running in the pool; closing the generator (which
        # closes the connection) waits for that step on this lock, in the pool, not on the loop.
        lock = threading.Lock()

        def step() -> object:
            with lock:
                return next(produced, _END)

        def close() -> None:
            with lock:
                produced.close()

        try:
            while True:
                page = await in_thread(step)
                if page is _END:
                    return
                yield page  # type: ignore[misc]
        finally:
            await asyncio.shield(in_thread(close))


class LdapReader:
    """A `SourceReader` for an LDAP server. `counter` counts the LDAP operations sent (the
    benchmark's and the tests' measure); `dialect_name` is the dialect the last round used."""

    def __init__(self, settings: LdapSettings, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.settings = settings
        self.scope = Scope(settings.base_dns, settings.user_filter, settings.group_filter)
        self.counter = Counter()
        self.dialect_name: str | None = None
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    async def start_round(self, cursor: str | None, *, full: bool = False) -> LdapReaderRound:
        stored = Cursor.decode(cursor) if cursor is not None and not full else None
        if stored is not None and stored.full_read_due(self._clock(), self.settings.full_read_hours):
            stored = None  # deletions this mechanism cannot report are found by a full read
        return LdapReaderRound(self, "full" if stored is None else "delta", stored)

    async def check(self) -> CheckResult:
        """Reach the server (DNS, TCP, TLS), bind, read the root DSE and one page of users and
        of groups under each base DN; say which step failed."""
        try:
            return await in_thread(self._check)
        except LdapStepError as failure:
            return CheckResult(False, str(failure), {"step": failure.step})

    def _check(self) -> CheckResult:
        settings = self.settings
        for url in settings.urls[:1]:
            probe_network(url, settings.connect_timeout)
        conn = connect(settings, self.counter)
        try:
            dse = root_dse(conn, self.counter)
            guessed = guess_dialect(dse)
            dialect = make_dialect(settings, dse, self.counter)
            counts = {"users": 0, "groups": 0}
            for base in settings.base_dns:
                if search_base(conn, base, ["objectClass"], self.counter) is None:
                    raise LdapStepError(
                        "base", f"base DN {base!r} does not exist on the server (or is not visible)"
                    )
                for kind, filterstr, names in (
                    ("users", settings.user_filter, dialect.user_attribute_names()),
                    ("groups", settings.group_filter, dialect.group_attribute_names()),
                ):
                    page = next(
                        iter(paged_search(conn, base, filterstr, names, min(settings.page_size, 50))), []
                    )
                    counts[kind] += len(page)
                    for entry in page:
                        if not entry[1].get(dialect.id_attribute):
                            raise LdapStepError(
                                "access",
                                f"insufficient access: the bind DN may not read {dialect.id_attribute} "
                                f"of {entry[0]!r}; the source needs it as each object's id",
                            )
            mode, delta_reads = found_delta(conn, dialect, self.scope, settings)
        except ldap.LDAPError as error:
            raise failure_of(error, settings.base_dns[0], settings.user_filter) from None
        finally:
            _unbind(conn)
        tls = "off" if not settings.uses_tls else ("verified" if settings.tls_verify else "NOT verified")
        return CheckResult(
            True,
            f"bound to {settings.urls[0]} as {settings.bind_dn}; dialect {dialect.name}"
            + (
                " (guessed from the root DSE)"
                if settings.dialect == "auto"
                else f" (set; root DSE says {guessed})"
            )
            + f"; delta reads: {delta_reads}; TLS {tls}; first page: "
            + f"{counts['users']} users, {counts['groups']} groups",
            {
                "step": "ok",
                "dialect": dialect.name,
                "guessed_dialect": guessed,
                "delta": mode,
                "delta_reads": delta_reads,
                "tls": tls,
                "users_in_first_page": counts["users"],
                "groups_in_first_page": counts["groups"],
            },
        )


DELTA_READS = {
    "syncrepl": "syncrepl (refreshOnly)",
    "timestamp": "entryCSN polling",
    "usn": "uSNChanged polling",
    "dirsync": "DirSync",
}


def found_delta(conn: Connection, dialect: Dialect, scope: Scope, settings: LdapSettings) -> tuple[str, str]:
    """The delta mechanism a read would use, as the dialect finds it on this server (its
    watermark's mode: AD's `auto` is DirSync only when the bind account may use it), and how
    `source test` says it. An AD uSNChanged delta that cannot see tombstones is said to fall
    back to full reads, as it will."""
    if settings.delta == "none":
        return "none", "none (every read is a full read)"
    try:
        mark = orjson.loads(dialect.start_watermark(conn, scope))
    except SourceUnavailableError as error:  # AD: DirSync asked for and refused, or not offered
        raise LdapStepError("delta", str(error)) from None
    mode = str(mark.get("mode") if isinstance(mark, dict) else "") or "unknown"
    said = DELTA_READS.get(mode, mode)
    visible = getattr(dialect, "deletions_visible", None)
    if mode == "usn" and visible is not None and not visible(conn, scope):
        said += " (the bind account cannot read deleted objects: every read is a full read)"
    return mode, said


def ldap_reader(settings: LdapSettings) -> LdapReader:
    """The factory the registry calls: a reader for one configured LDAP source."""
    if not settings.bind_dn and settings.bind_password:
        raise SourceUnavailableError("an LDAP source with a bind password needs a bind DN")
    return LdapReader(settings)
