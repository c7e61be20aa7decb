"""S8: the LDAP reader against a real slapd: the initial read and a delta, at two tree sizes.

Each tree is written as LDIF and loaded offline with `slapadd` (seconds, where 50,000 adds over
LDAP take minutes), then slapd starts on it (the tests' fixture, `tests/ldap_servers/slapd.py`:
syncprov with a session log, accesslog, memberof, refint). The tree: `s8_users` people (a
manager for every ten), a group per `s8_users_per_group` of them (every tenth group nested in
the next). The reader runs in this process with pages of 500; its pages are read and dropped, as
the framework does once a page is staged. Measured per size: the LDAP operations the reader
sent, the time, and the peak of Python memory it allocated (tracemalloc: slapd is another
process). Then `s8_changes` changes (a title for nine in ten, a group's members for the tenth)
and one syncrepl delta: its operations must be the same at both sizes.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from pathlib import Path
from typing import Any

import ldap
from tests.ldap_servers.slapd import READER_DN, READER_PASSWORD, SUFFIX, Slapd

from bench.context import Context
from bench.report import Row
from bench.scenarios.reader_rows import reader_rows
from enlist.provisioning.sources.ldap.reader import LdapReader
from enlist.provisioning.sources.ldap.settings import LdapSettings


async def run(ctx: Context) -> list[Row]:
    small_n, large_n = ctx.sizes.s8_users
    servers: list[Slapd] = []
    try:
        measured = []
        for users in (small_n, large_n):
            servers.append(await asyncio.to_thread(_tree, ctx, users))
            measured.append(await _measure(ctx, servers[-1], users))
            servers.pop().stop()  # one slapd at a time: the machine is shared
    finally:
        for server in servers:
            server.stop()
    small_r, large_r = measured
    return reader_rows(
        "S8",
        "LDAP reader",
        f"syncrepl delta, {ctx.sizes.s8_changes} changes",
        ("operations", "LDAP operations"),
        (small_n, large_n),
        small_r,
        large_r,
    )


def tree_ldif(users: int, per_group: int) -> str:
    """The seed tree as LDIF (slapadd adds entryUUID, entryCSN and the timestamps)."""
    groups = max(1, users // per_group)
    lines = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
        (
            f"dn: {READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
            f"cn: reader\nuserPassword: {READER_PASSWORD}\n"
        ),
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n",
    ]
    for i in range(users):
        boss = i // 10 * 10
        manager = f"manager: uid=u{boss:06d},ou=people,{SUFFIX}\n" if boss != i else ""
        lines.append(
            f"dn: uid=u{i:06d},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: u{i:06d}\n"
            f"cn: User {i}\nsn: {i}\ngivenName: User\nmail: u{i:06d}@example.com\ntitle: Staff\n"
            f"departmentNumber: D{i % 40}\nemployeeNumber: {i}\ntelephoneNumber: +1 555 {i:06d}\n{manager}"
        )
    for g in range(groups):
        members = [f"member: uid=u{i:06d},ou=people,{SUFFIX}\n" for i in range(g, users, groups)]
        if g % 10 == 0 and g + 1 < groups:
            members.append(f"member: cn=g{g + 1:05d},ou=groups,{SUFFIX}\n")
        lines.append(
            f"dn: cn=g{g:05d},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: g{g:05d}\n{''.join(members)}"
        )
    return "\n".join(lines)


def _tree(ctx: Context, users: int) -> Slapd:
    folder: Path = ctx.ws.dir(f"slapd-{users}")
    server = Slapd(folder)
    server.configure()
    ldif = folder / "seed.ldif"
    ldif.write_text(tree_ldif(users, ctx.sizes.s8_users_per_group), encoding="utf-8")
    server.load(ldif)
    server.start()
    return server


def _change(server: Slapd, users: int, changes: int, per_group: int) -> None:
    """`changes` changes: a title for nine in ten, a group's whole member list for the tenth."""
    conn = server.admin()
    groups = max(1, users // per_group)
    try:
        for n in range(changes):
            if n % 10 == 9:
                g = n % groups
                members = [f"uid=u{i:06d},ou=people,{SUFFIX}".encode() for i in range(g, users, groups)][1:]
                conn.modify_s(f"cn=g{g:05d},ou=groups,{SUFFIX}", [(ldap.MOD_REPLACE, "member", members)])
            else:
                conn.modify_s(f"uid=u{n:06d},ou=people,{SUFFIX}", [(ldap.MOD_REPLACE, "title", [b"Changed"])])
    finally:
        conn.unbind_s()


async def _read(reader: LdapReader, cursor: str | None) -> tuple[str | None, int, int]:
    ldap_round = await reader.start_round(cursor, full=cursor is None)
    users = groups = 0
    async for page in ldap_round.pages():
        users += len(page.users)
        groups += len(page.groups)
    return ldap_round.cursor, users, groups


async def _measure(ctx: Context, server: Slapd, users: int) -> dict[str, Any]:
    settings = LdapSettings(
        urls=(server.url,),
        bind_dn=READER_DN,
        bind_password=READER_PASSWORD,
        base_dns=(SUFFIX,),
        page_size=500,
    )
    reader = LdapReader(settings)
    checked = await reader.check()  # every module loaded, before measuring
    if not checked.ok:
        raise RuntimeError(f"the reader's check failed: {checked.message}")
    reader.counter.operations = 0
    tracemalloc.start()
    started = time.perf_counter()
    cursor, read_users, read_groups = await _read(reader, None)
    initial_s = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if read_users != users or cursor is None:
        raise RuntimeError(f"the initial read listed {read_users} of {users} users")
    initial_operations = reader.counter.operations
    await asyncio.to_thread(_change, server, users, ctx.sizes.s8_changes, ctx.sizes.s8_users_per_group)
    reader.counter.operations = 0
    started = time.perf_counter()
    cursor, changed_users, changed_groups = await _read(reader, cursor)
    delta_s = time.perf_counter() - started
    return {
        "users": users,
        "groups": read_groups,
        "initial_s": initial_s,
        "initial_operations": initial_operations,
        "initial_peak_mib": peak / 2**20,
        "delta_s": delta_s,
        "delta_operations": reader.counter.operations,
        "delta_users": changed_users,
        "delta_groups": changed_groups,
    }
