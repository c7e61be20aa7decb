"""The AD dialect's members on real entries of a Samba AD DC: ids, account state, members."""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

import ldap

from enlist.provisioning.sources.ldap.ad import ActiveDirectoryDialect
from enlist.provisioning.sources.ldap.dialect import Entry
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC

dialect = ActiveDirectoryDialect()


def read(conn: Any, dn: str, attributes: tuple[str, ...]) -> Entry:
    [(found_dn, found)] = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", list(attributes))
    return found_dn, found


def read_user(conn: Any, dn: str) -> Entry:
    return read(conn, dn, dialect.user_attribute_names())


def test_object_guid_becomes_the_uuid_that_finds_the_object_again(admin: Any, ou: str) -> None:
    dn = seed.add_user(admin, ou, "Guid Person")
    text = dialect.immutable_id(read_user(admin, dn))
    assert str(uuid.UUID(text)) == text
    # AD resolves <GUID=…> with the canonical (mixed-endian) text: the same object comes back.
    [(found_dn, _)] = admin.search_s(f"<GUID={text}>", ldap.SCOPE_BASE, "(objectClass=*)", ["cn"])
    assert found_dn.lower() == dn.lower()
    assert seed.guid_of(admin, dn) == text


def test_operational_and_constructed_attributes_come_back_when_named(admin: Any, ou: str) -> None:
    manager = seed.add_user(admin, ou, "Boss")
    dn = seed.add_user(
        admin, ou, "Named Attrs", given_name="Na", surname="Med", mail="na@example.test",
        upn="named.attrs@example.test", title="Trainer", department="Learning",
        employee_id="E-17", manager=manager,
    )  # fmt: skip
    seed.add_group(admin, ou, "Has Named", [dn])
    attributes = {name.lower() for name in read_user(admin, dn)[1]}
    expected = {
        "objectguid", "userprincipalname", "mail", "givenname", "sn", "title", "department",
        "employeeid", "manager", "useraccountcontrol", "accountexpires", "memberof", "usnchanged",
        "msds-user-account-control-computed",
    }  # fmt: skip
    assert expected <= attributes


def test_manager_is_read_as_the_managers_dn(admin: Any, ou: str) -> None:
    manager = seed.add_user(admin, ou, "Mana Ger")
    report = seed.add_user(admin, ou, "Rep Ort", manager=manager)
    [value] = read_user(admin, report)[1]["manager"]
    assert value.decode().lower() == manager.lower()


def test_account_enabled_follows_account_disable_and_account_expires(admin: Any, ou: str) -> None:
    now = time.time()
    cases = {
        "enabled": ({}, True),
        "disabled": ({"disabled": True}, False),
        "expired yesterday": ({"account_expires": seed.filetime(now - 86400)}, False),
        "expires next year": ({"account_expires": seed.filetime(now + 365 * 86400)}, True),
        "expires never (0)": ({"account_expires": 0}, True),
        "expires never (max)": ({"account_expires": seed.NEVER}, True),
        "disabled, expires never": ({"disabled": True, "account_expires": seed.NEVER}, False),
    }
    seen = {}
    for name, (options, _) in cases.items():
        dn = seed.add_user(admin, ou, name.replace(",", ""), **options)  # type: ignore[arg-type]
        seen[name] = dialect.account_enabled(read_user(admin, dn))
    assert seen == {name: enabled for name, (_, enabled) in cases.items()}


def test_disabling_and_enabling_again_changes_account_enabled(admin: Any, ou: str) -> None:
    dn = seed.add_user(admin, ou, "Toggle")
    states = [dialect.account_enabled(read_user(admin, dn))]
    seed.set_disabled(admin, dn, disabled=True)
    states.append(dialect.account_enabled(read_user(admin, dn)))
    seed.set_disabled(admin, dn, disabled=False)
    states.append(dialect.account_enabled(read_user(admin, dn)))
    assert states == [True, False, True]


def test_a_locked_out_account_is_locked_out_and_still_enabled(samba_dc: SambaDC, admin: Any, ou: str) -> None:
    """A lockout ends by itself without a write a delta could see: it must not disable."""
    seed.replace(admin, samba_dc.base_dn, lockoutThreshold=3)
    try:
        dn = seed.add_user(admin, ou, "Locks Out", upn=f"locks.{uuid.uuid4().hex[:8]}@example.test")
        seed.set_password(samba_dc, dn, "Right!Passw0rd1")
        before = read_user(admin, dn)
        for _ in range(4):
            with contextlib.suppress(ldap.INVALID_CREDENTIALS):
                samba_dc.connect(dn, "Wrong!Passw0rd1")
        after = read_user(admin, dn)
    finally:
        seed.replace(admin, samba_dc.base_dn, lockoutThreshold=0)
    assert (dialect.locked_out(before), dialect.locked_out(after)) == (False, True)
    assert (dialect.account_enabled(before), dialect.account_enabled(after)) == (True, True)


def test_member_dns_reads_every_range_of_a_group_over_1500_members(
    admin: Any, big_group: tuple[str, list[str]]
) -> None:
    group, members = big_group
    # As a Windows DC answers (MaxValRange): only the first range comes with the entry.
    first_range = read(admin, group, ("objectGUID", "member;range=0-999"))
    assert [key for key in first_range[1] if key.startswith("member")] == ["member;range=0-999"]
    found = dialect.member_dns(admin, first_range)
    assert len(found) == len(members) == 1600
    assert {dn.lower() for dn in found} == {dn.lower() for dn in members}


def test_member_dns_reads_small_ranges_to_the_end(admin: Any, big_group: tuple[str, list[str]]) -> None:
    group, members = big_group
    entry = read(admin, group, ("member;range=0-9",))
    assert len(dialect.member_dns(admin, entry)) == len(members)


def test_member_dns_of_a_whole_member_value_needs_no_further_read(
    admin: Any, big_group: tuple[str, list[str]]
) -> None:
    group, members = big_group
    entry = read(admin, group, dialect.group_attribute_names())
    assert len(dialect.member_dns(admin, entry)) == len(members)


def test_nested_groups_are_kept_as_nesting(admin: Any, ou: str) -> None:
    alice = seed.add_user(admin, ou, "Alice")
    bob = seed.add_user(admin, ou, "Bob")
    inner = seed.add_group(admin, ou, "Inner", [bob])
    outer = seed.add_group(admin, ou, "Outer", [alice, inner])
    outer_members = dialect.member_dns(admin, read(admin, outer, dialect.group_attribute_names()))
    inner_members = dialect.member_dns(admin, read(admin, inner, dialect.group_attribute_names()))
    assert {dn.lower() for dn in outer_members} == {alice.lower(), inner.lower()}
    assert {dn.lower() for dn in inner_members} == {bob.lower()}


def test_a_group_without_members_has_none(admin: Any, ou: str) -> None:
    group = seed.add_group(admin, ou, "Empty")
    assert dialect.member_dns(admin, read(admin, group, dialect.group_attribute_names())) == []


def test_the_dc_runs_on_its_own_loopback_address(samba_dc: SambaDC) -> None:
    assert samba_dc.address.startswith("127.0.0.")
    assert samba_dc.address != "127.0.0.1"
    assert set(samba_dc.timings) == {"provision_s", "start_s"}
