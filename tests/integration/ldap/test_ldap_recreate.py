"""A person deleted and re-created in LDAP gets a new entryUUID; the directory gives the new
entry the soft-deleted object back (same directory id, restored), so downstream it is the same
person (ADR 0022). Only a soft-deleted object of the same source, and not one the round lists."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.read import read_source
from tests.integration.ldap.helpers import person
from tests.ldap_servers.slapd import READER_PASSWORD, Slapd
from tests.ldap_servers.slapd_world import ldap_settings


async def _rows(service: Service) -> list[sa.Row[tuple[str, str, str, object]]]:
    async with service.db.read() as conn:
        query = sa.select(dir_users.c.id, dir_users.c.source_id, dir_users.c.upn, dir_users.c.deleted_at)
        return list((await conn.execute(query.order_by(dir_users.c.upn))).all())


async def test_a_re_created_entry_takes_back_its_soft_deleted_namesake(
    service: Service, slapd: Slapd, branch: str
) -> None:
    conn = slapd.admin()
    dan_dn, old_id = person(conn, branch, "dan")
    await operations.add(
        service, "corp", "ldap", ldap_settings(slapd, branch), {"bind_password": READER_PASSWORD}
    )
    await read_source(service, await operations.get(service, "corp"))
    [(row_id, source_id, _, _)] = await _rows(service)
    assert source_id == old_id
    conn.delete_s(dan_dn)
    deleted = (await read_source(service, await operations.get(service, "corp"))).to_json()
    assert deleted["users_deleted"] == 1
    _, new_id = person(conn, branch, "dan")
    back = (await read_source(service, await operations.get(service, "corp"))).to_json()
    assert (back["kind"], back["users_created"], back["users_updated"]) == ("delta", 0, 1)
    assert [(r.id, r.source_id, r.deleted_at) for r in await _rows(service)] == [(row_id, new_id, None)]


async def test_a_live_namesake_in_another_source_is_a_conflict_not_a_takeover(
    service: Service, slapd: Slapd, branch: str
) -> None:
    conn = slapd.admin()
    dan_dn, _ = person(conn, branch, "dan")
    await operations.add(
        service, "corp", "ldap", ldap_settings(slapd, branch), {"bind_password": READER_PASSWORD}
    )
    await read_source(service, await operations.get(service, "corp"))
    other = slapd.branch()
    person(conn, other, "dan")
    await operations.add(
        service, "other", "ldap", ldap_settings(slapd, other), {"bind_password": READER_PASSWORD}
    )
    conn.delete_s(dan_dn)
    await read_source(service, await operations.get(service, "corp"))
    result = (await read_source(service, await operations.get(service, "other"))).to_json()
    assert result["users_created"] == 0
    assert [c["owner"] for c in result["conflicts"]] == ["corp"]
    [row] = await _rows(service)
    assert row.deleted_at is not None, "another source's soft-deleted user stays where it is"
