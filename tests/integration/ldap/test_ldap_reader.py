"""The LDAP reader against a real slapd: the §2.6 mapping, manager and member DNs resolved to
ids, nesting kept, deltas by syncrepl and by entryCSN, deletions only where the server reports
them, and the watermark rules."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from enlist.provisioning.sources.ldap.connection import Counter, connect
from enlist.provisioning.sources.ldap.dialect import Scope
from enlist.provisioning.sources.ldap.openldap import OpenLdapDialect
from enlist.provisioning.sources.ldap.reader import LdapReader
from enlist.provisioning.sources.ldap.resolve import Resolver
from enlist.provisioning.sources.model import CursorExpiredError, GroupRecord, Removal, UserRecord
from tests.integration.ldap.helpers import NOBODY_MEMBER, collect, group, modify, ou, person, reader_settings
from tests.ldap_servers.slapd import Slapd


def users_of(pages: list[Any]) -> dict[str, UserRecord]:
    return {u.source_id: u for p in pages for u in p.users}


def groups_of(pages: list[Any]) -> dict[str, GroupRecord]:
    return {g.source_id: g for p in pages for g in p.groups}


def removals_of(pages: list[Any]) -> list[Removal]:
    return [r for p in pages for r in p.removals]


async def test_a_full_read_maps_every_attribute_the_manager_and_the_ou_path(
    slapd: Slapd, branch: str
) -> None:
    conn = slapd.admin()
    emea = ou(conn, ou(conn, f"ou=people,{branch}", "Sales"), "EMEA")
    boss_dn, boss = person(conn, branch, "boss", title="CEO")
    _, ann = person(
        conn,
        branch,
        "ann",
        ou="EMEA,ou=Sales,ou=people",
        givenName="Ann",
        sn="Smith",
        displayName="Ann Smith",
        title="Trainer",
        departmentNumber="Learning",
        o="Example Ltd",
        employeeNumber="E-17",
        telephoneNumber=["+44 1", "+44 2"],
        mobile="+44 7",
        l="Leeds",
        st="West Yorkshire",
        postalCode="LS1",
        manager=boss_dn,
    )
    users = users_of((await collect(LdapReader(reader_settings(slapd, branch))))[0])
    attrs = users[ann].attributes
    assert users[ann].manager == boss
    assert users[boss].manager is None
    assert attrs == attrs | {
        "objectId": ann,
        "userPrincipalName": "ann@example.com",
        "mail": "ann@example.com",
        "mailNickname": "ann",
        "givenName": "Ann",
        "surname": "Smith",
        "displayName": "Ann Smith",
        "jobTitle": "Trainer",
        "department": "Learning",
        "companyName": "Example Ltd",
        "employeeId": "E-17",
        "businessPhones": ["+44 1", "+44 2"],
        "mobilePhone": "+44 7",
        "city": "Leeds",
        "state": "West Yorkshire",
        "postalCode": "LS1",
        "accountEnabled": True,
        "onPremisesDistinguishedName": f"uid=ann,{emea}",
        "organizationalUnitPath": "people/Sales/EMEA",
    }
    assert users[boss].attributes["displayName"] == "Boss", "cn when there is no displayName"
    assert users[boss].attributes["givenName"] is None, "an attribute the entry lacks is cleared"


async def test_groups_keep_nesting_and_members_resolve_only_inside_the_scope(
    slapd: Slapd, branch: str
) -> None:
    conn = slapd.admin()
    ann_dn, ann = person(conn, branch, "ann")
    bob_dn, bob = person(conn, branch, "bob")
    outside = slapd.branch()
    stranger_dn, _ = person(conn, outside, "stranger")
    trainers_dn, trainers = group(conn, branch, "trainers", [bob_dn, stranger_dn])
    _, staff = group(conn, branch, "staff", [ann_dn, trainers_dn, f"uid=gone,ou=people,{branch}"])
    _, auditors = group(conn, branch, "auditors", [f"{ann_dn}#'0101'B"], kind="groupOfUniqueNames")
    _, empty = group(conn, branch, "empty", [NOBODY_MEMBER])
    groups = groups_of((await collect(LdapReader(reader_settings(slapd, branch))))[0])
    assert (groups[staff].member_users, groups[staff].member_groups) == ({ann}, {trainers})
    assert (groups[trainers].member_users, groups[trainers].member_groups) == ({bob}, set())
    assert groups[auditors].member_users == {ann}
    assert (groups[empty].member_users, groups[empty].member_groups) == (set(), set())
    assert all(g.members_complete for g in groups.values())
    assert groups[staff].attributes["displayName"] == "staff"


async def test_a_syncrepl_delta_gives_changes_moves_and_deletions_only(slapd: Slapd, branch: str) -> None:
    conn = slapd.admin()
    ann_dn, ann = person(conn, branch, "ann")
    bob_dn, bob = person(conn, branch, "bob")
    carol_dn, carol = person(conn, branch, "carol")
    staff_dn, staff = group(conn, branch, "staff", [ann_dn, bob_dn, carol_dn])
    reader = LdapReader(reader_settings(slapd, branch))
    _, cursor, _ = await collect(reader)
    moved_to = ou(conn, f"ou=people,{branch}", "Support")
    conn.rename_s(bob_dn, "uid=robert", newsuperior=moved_to)  # a rename and a move at once
    modify(conn, ann_dn, title="Lead", pwdAccountLockedTime="000001010000Z")
    conn.delete_s(carol_dn)
    # refint rewrites staff's member values below syncprov (no new entryCSN): a delta does not
    # show it. An admin's own change of the group does.
    modify(conn, staff_dn, member=[ann_dn, f"uid=robert,{moved_to}"])
    pages, cursor2, kind = await collect(reader, cursor)
    assert kind == "delta"
    users = users_of(pages)
    assert set(users) == {ann, bob}
    assert users[bob].attributes["onPremisesDistinguishedName"] == f"uid=robert,{moved_to}"
    assert users[bob].attributes["organizationalUnitPath"] == "people/Support"
    assert (users[ann].attributes["jobTitle"], users[ann].attributes["accountEnabled"]) == ("Lead", False)
    removed = removals_of(pages)
    assert [r for r in removed if r.kind == "user"] == [Removal("user", carol, "deleted")]
    assert {r.source_id for r in removed} == {carol}, "a changed entry is never removed"
    assert groups_of(pages)[staff].member_users == {ann, bob}
    pages, _, kind = await collect(reader, cursor2)
    assert (kind, pages) == ("delta", []), "nothing changed: an empty delta"


async def test_timestamp_polling_reads_changes_and_never_reports_a_deletion(
    slapd: Slapd, branch: str
) -> None:
    conn = slapd.admin()
    ann_dn, ann = person(conn, branch, "ann")
    bob_dn, _ = person(conn, branch, "bob")
    reader = LdapReader(reader_settings(slapd, branch, delta="timestamp"))
    _, cursor, _ = await collect(reader)
    modify(conn, ann_dn, title="Lead")
    conn.delete_s(bob_dn)
    pages, _, kind = await collect(reader, cursor)
    assert kind == "delta"
    assert set(users_of(pages)) == {ann}
    assert removals_of(pages) == []


async def test_timestamp_polling_turns_into_a_full_read_on_its_schedule(slapd: Slapd, branch: str) -> None:
    person(slapd.admin(), branch, "ann")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    for delta in ("timestamp", "syncrepl"):
        reader = LdapReader(reader_settings(slapd, branch, delta=delta, full_read_hours=1))
        _, cursor, _ = await collect(reader)
        assert (await reader.start_round(cursor)).kind == "delta", "the last full read is recent"
        reader = LdapReader(
            reader_settings(slapd, branch, delta=delta, full_read_hours=1), clock=lambda: later
        )
        assert (await reader.start_round(cursor)).kind == "full", "the last full read is 2 hours old"
        never = LdapReader(
            reader_settings(slapd, branch, delta=delta, full_read_hours=0), clock=lambda: later
        )
        assert (await never.start_round(cursor)).kind == "delta"


async def test_a_change_made_during_a_full_read_is_read_again_by_the_next_delta(
    slapd: Slapd, branch: str
) -> None:
    conn = slapd.admin()
    ann_dn, ann = person(conn, branch, "ann")
    reader = LdapReader(reader_settings(slapd, branch))
    round_ = await reader.start_round(None, full=True)
    pages = round_.pages()
    await anext(pages)  # the watermark is taken; the read is under way
    modify(conn, ann_dn, title="Changed mid-read")
    _ = [p async for p in pages]
    pages2, _, _ = await collect(reader, round_.cursor)
    assert users_of(pages2)[ann].attributes["jobTitle"] == "Changed mid-read"


@pytest.mark.parametrize("delta", ["syncrepl", "timestamp"])
async def test_an_unreadable_or_foreign_watermark_means_a_full_read(
    slapd: Slapd, branch: str, delta: str
) -> None:
    reader = LdapReader(reader_settings(slapd, branch, delta=delta))
    _, cursor, _ = await collect(reader)
    assert cursor is not None
    with pytest.raises(CursorExpiredError):
        await reader.start_round("not json")
    stored = json.loads(cursor)
    stored["watermark"] = json.dumps({"mode": "timestamp" if delta == "syncrepl" else "syncrepl", "csn": ""})
    with pytest.raises(CursorExpiredError):
        await collect(reader, json.dumps(stored))


async def test_a_provider_whose_state_is_older_than_the_cookie_forces_a_full_read(
    slapd: Slapd, branch: str
) -> None:
    reader = LdapReader(reader_settings(slapd, branch))
    _, cursor, _ = await collect(reader)
    assert cursor is not None
    stored = json.loads(cursor)
    future = "rid=000,csn=20991231000000.000000Z#000000#000#000000"
    stored["watermark"] = json.dumps(
        {"mode": "syncrepl", "cookies": dict.fromkeys(json.loads(stored["watermark"])["cookies"], future)}
    )
    with pytest.raises(CursorExpiredError, match="older than the stored cookie"):
        await collect(reader, json.dumps(stored))


async def test_a_provider_without_a_session_log_makes_a_delta_with_a_deletion_a_full_read() -> None:
    server = Slapd(Path(tempfile.mkdtemp(prefix="enlist-slapd-nolog-")), sessionlog=False)
    server.configure()
    server.start()
    try:
        server.seed_base()
        branch = server.branch()
        conn = server.admin()
        person(conn, branch, "ann")
        bob_dn, _ = person(conn, branch, "bob")
        reader = LdapReader(reader_settings(server, branch))
        _, cursor, _ = await collect(reader)
        conn.delete_s(bob_dn)
        with pytest.raises(CursorExpiredError, match="present phase"):
            await collect(reader, cursor)
    finally:
        server.stop()


async def test_the_bind_password_is_never_in_the_settings_repr(slapd: Slapd, branch: str) -> None:
    settings = reader_settings(slapd, branch)
    assert settings.bind_password not in repr(settings)
    assert settings.bind_password not in repr(replace(settings, page_size=2))


async def test_a_group_larger_than_the_dn_cache_keeps_every_member(slapd: Slapd, branch: str) -> None:
    conn = slapd.admin()
    people = dict(person(conn, branch, f"m{i:02d}") for i in range(12))
    reader_conn = connect(reader_settings(slapd, branch))
    scope = Scope((branch,), "(objectClass=inetOrgPerson)", "(objectClass=groupOfNames)")
    counter = Counter()
    resolver = Resolver(reader_conn, OpenLdapDialect(), scope, counter, capacity=5)
    found = resolver.resolve([*people, f"uid=gone,ou=people,{branch}"])
    assert {value for _, value in found.values()} == set(people.values())
    assert counter.operations == 2, "one search for the users, one for the DN that was not one"
    reader_conn.unbind_s()


async def test_a_syncrepl_delta_is_handed_on_a_page_at_a_time(slapd: Slapd, branch: str) -> None:
    conn = slapd.admin()
    people = [person(conn, branch, f"p{i}") for i in range(7)]
    reader = LdapReader(reader_settings(slapd, branch, page_size=2))
    _, cursor, _ = await collect(reader)
    for dn, _ in people[:5]:
        modify(conn, dn, title="Changed")
    conn.delete_s(people[0][0])  # changed, then deleted: only the deletion is reported
    pages, _, _ = await collect(reader, cursor)
    assert [len(p.users) for p in pages if p.users] == [2, 2]
    assert {u.source_id for p in pages for u in p.users} == {i for _, i in people[1:5]}
    assert [r for p in pages for r in p.removals if r.kind == "user"] == [
        Removal("user", people[0][1], "deleted")
    ]
    last_users = max(i for i, p in enumerate(pages) if p.users)
    assert all(not p.removals for p in pages[: last_users + 1]), "removals come after every entry"
