"""The AD dialect's tests run against one real Samba AD DC per test run (tests/ldap_servers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from enlist.provisioning.sources.ldap.dialect import Scope
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC
from tests.ldap_servers.samba_fixture import shared_samba_dc

USER_FILTER = "(&(objectCategory=person)(objectClass=user))"
GROUP_FILTER = "(objectClass=group)"
BIG_GROUP_SIZE = 1600


@pytest.fixture(scope="session")
def samba_dc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SambaDC:
    return shared_samba_dc(request.config, tmp_path_factory)


@pytest.fixture
def admin(samba_dc: SambaDC) -> Iterator[Any]:
    """A connection bound as the domain's Administrator (who may use DirSync)."""
    conn = samba_dc.connect()
    yield conn
    conn.unbind_s()


@pytest.fixture
def ou(samba_dc: SambaDC, admin: Any) -> str:
    """A fresh OU of the test's own, so tests sharing the DC never see each other's objects."""
    return seed.add_ou(admin, f"T {uuid.uuid4().hex[:12]}", samba_dc.base_dn)


def scope_of(*base_dns: str) -> Scope:
    return Scope(base_dns=base_dns, user_filter=USER_FILTER, group_filter=GROUP_FILTER)


@pytest.fixture(scope="session")
def big_group(samba_dc: SambaDC) -> tuple[str, list[str]]:
    """A group with 1,600 user members (more than AD's 1,500-value range), made once per run."""
    conn = samba_dc.connect()
    try:
        ou = seed.add_ou(conn, f"Big {uuid.uuid4().hex[:8]}", samba_dc.base_dn)
        members = seed.add_users_bulk(conn, ou, BIG_GROUP_SIZE)
        group = seed.add_group(conn, ou, "Everyone Big", members)
    finally:
        conn.unbind_s()
    return group, members
