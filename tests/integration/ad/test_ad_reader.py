"""The AD dialect driven by the LDAP reader and the source framework (not the dialect alone), on
a real Samba AD DC, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.read import read_source
from tests.contract.test_source_contract import directory_of
from tests.integration.ad.conftest import GROUP_FILTER, USER_FILTER
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC

READER_PASSWORD = "Reader!Passw0rd1"


async def test_usn_reads_by_an_account_blind_to_deletions_are_full_reads_that_apply_deletions(
    service: Service, samba_dc: SambaDC, admin: Any, ou: str
) -> None:
    """Such an account's uSN watermark expires every round (it could not see a tombstone): each
    read falls back to a full read in the same cycle and succeeds; it never fails or loops."""
    people = [
        seed.add_user(admin, ou, f"P{i}", upn=f"p{i}.{uuid.uuid4().hex[:6]}@example.test") for i in range(3)
    ]
    reader = seed.add_user(admin, ou, "Reader", upn=f"r.{uuid.uuid4().hex[:6]}@example.test")
    seed.set_password(samba_dc, reader, READER_PASSWORD)
    settings = {"url": samba_dc.url, "bind_dn": reader, "base_dn": ou, "user_filter": USER_FILTER,
                "group_filter": GROUP_FILTER, "delta": "usn"}  # fmt: skip
    await operations.add(service, "corp", "ldap", settings, {"bind_password": READER_PASSWORD})
    first = (await read_source(service, await operations.get(service, "corp"))).to_json()
    assert (first["kind"], first["users_created"]) == ("full", 4)
    seed.delete(admin, people[0])
    second = (await read_source(service, await operations.get(service, "corp"))).to_json()
    assert (second["kind"], second["users_deleted"]) == ("full", 1)
    source = await operations.get(service, "corp")
    assert (source.last_status, source.cursor is not None) == ("ok", True)
    live = [u for u in (await directory_of(service, "corp"))["users"].values() if not u["deleted"]]
    assert len(live) == 3
