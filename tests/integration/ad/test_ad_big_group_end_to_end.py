"""A group of 1,600 members (more than AD's 1,500-value range) read end to end from the real
Samba AD DC: source → reader → the directory, its members fetched range by range
(`member;range=…`, asked for as a Windows DC answers), its members' logins from the
sAMAccountName fallback (they have neither userPrincipalName nor mail). The range reads are
counted: one per range beyond the first, never one per member. `source test` says the delta
mechanism it found. On SQLite and PostgreSQL."""

from __future__ import annotations

import math
from typing import Any

import ldap.dn
import pytest

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.ldap.reader import LdapReader
from enlist.provisioning.sources.ldap.settings import LdapSettings
from enlist.provisioning.sources.read import read_source
from tests.contract.test_source_contract import directory_of
from tests.integration.ad.conftest import BIG_GROUP_SIZE, GROUP_FILTER, USER_FILTER
from tests.integration.ldap.helpers import collect
from tests.ldap_servers.samba import SambaDC


def parent(dn: str) -> str:
    return ldap.dn.dn2str(ldap.dn.str2dn(dn)[1:])


def stored(samba_dc: SambaDC, base: str, **extra: Any) -> dict[str, Any]:
    return {"url": samba_dc.url, "bind_dn": samba_dc.admin_dn, "base_dn": base, "user_filter": USER_FILTER,
            "group_filter": GROUP_FILTER, **extra}  # fmt: skip


async def test_a_1600_member_group_reaches_the_directory_whole_with_sam_account_name_logins(
    service: Service, samba_dc: SambaDC, big_group: tuple[str, list[str]]
) -> None:
    group, members = big_group
    settings = stored(samba_dc, parent(group), member_range="1500")
    await operations.add(service, "corp", "ldap", settings, {"bind_password": samba_dc.password})
    result = (await read_source(service, await operations.get(service, "corp"))).to_json()
    assert (result["kind"], result["users_created"], result["groups_created"]) == ("full", BIG_GROUP_SIZE, 1)
    assert result["memberships_added"] == BIG_GROUP_SIZE
    assert result["warnings"] == []
    directory = await directory_of(service, "corp")
    (only,) = directory["groups"].values()
    assert len(only["users"]) == len(members) == BIG_GROUP_SIZE
    logins = sorted(u["upn"] for u in directory["users"].values())
    assert all(upn.endswith("@example.test") for upn in logins)
    assert len(set(logins)) == BIG_GROUP_SIZE  # each member once, under its own login
    check = await operations.test(service, "corp")
    assert check.ok, check.message
    assert check.details["delta"] in {"dirsync", "usn"}
    assert f"delta reads: {check.details['delta_reads']};" in check.message
    assert check.details["delta_reads"] in {"DirSync", "uSNChanged polling"}


@pytest.mark.parametrize("member_range", [1500, 400])
async def test_range_reads_cost_one_operation_per_range_beyond_the_first(
    samba_dc: SambaDC, big_group: tuple[str, list[str]], member_range: int
) -> None:
    group, _ = big_group
    common = {"urls": (samba_dc.url,), "bind_dn": samba_dc.admin_dn, "bind_password": samba_dc.password,
              "base_dns": (parent(group),), "user_filter": USER_FILTER, "group_filter": GROUP_FILTER,
              "delta": "none"}  # fmt: skip
    counts = {}
    for size in (0, member_range):
        reader = LdapReader(LdapSettings(**common, member_range=size))
        pages, _, _ = await collect(reader)
        (read,) = [g for page in pages for g in page.groups]
        assert len(read.member_users) == BIG_GROUP_SIZE
        counts[size] = reader.counter.operations
    assert counts[member_range] - counts[0] == math.ceil(BIG_GROUP_SIZE / member_range) - 1
