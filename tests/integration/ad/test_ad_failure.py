"""A Samba AD DC killed mid-read leaves the directory as it was: nothing applied, nothing
removed, the cursor kept (as tests/integration/ldap/test_ldap_failure.py shows for slapd). On
SQLite and PostgreSQL, with a DC of the test's own (it is killed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.model import SourceUnavailableError
from enlist.provisioning.sources.read import open_reader, read_source
from tests.contract.test_source_contract import directory_of
from tests.integration.ad.conftest import GROUP_FILTER, USER_FILTER
from tests.integration.ldap.test_ldap_failure import KillAfterFirstPage
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC, start, start_samba_dc, unavailable_reason


class Killable:
    """The DC as `KillAfterFirstPage` kills a server: SIGKILL, no goodbye."""

    def __init__(self, dc: SambaDC) -> None:
        self.dc = dc

    def kill(self) -> None:
        if self.dc.process is not None and self.dc.process.poll() is None:
            self.dc.process.kill()
            self.dc.process.wait()


@pytest.fixture
def own_dc(tmp_path: Path) -> Iterator[SambaDC]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"Samba AD DC unavailable: {reason}")
    dc = start_samba_dc(tmp_path / "dc")
    yield dc
    dc.stop()


@pytest.mark.parametrize("delta", ["usn", "dirsync"])
async def test_a_dc_killed_mid_read_leaves_the_directory_as_it_was(
    service: Service, own_dc: SambaDC, delta: str
) -> None:
    admin = own_dc.connect()
    ou = seed.add_ou(admin, f"K {uuid.uuid4().hex[:8]}", own_dc.base_dn)
    users = [seed.add_user(admin, ou, f"U{i}", upn=f"u{i}@example.test") for i in range(10)]
    seed.add_group(admin, ou, "All", users)
    settings = {"url": own_dc.url, "bind_dn": own_dc.admin_dn, "base_dn": ou, "user_filter": USER_FILTER,
                "group_filter": GROUP_FILTER, "delta": delta, "page_size": 2}  # fmt: skip
    await operations.add(service, "corp", "ldap", settings, {"bind_password": own_dc.password})
    await read_source(service, await operations.get(service, "corp"))
    for dn in users[6:]:
        seed.delete(admin, dn)  # a full read now would remove 4 users: a cut one must remove none
    for dn in users[:6]:
        seed.replace(admin, dn, title="Changed")  # a delta now has pages to cut
    admin.unbind_s()
    source = await operations.get(service, "corp")
    before = await directory_of(service, "corp")
    for full in (False, True):
        killer = KillAfterFirstPage(open_reader(source, service.secrets), Killable(own_dc))  # type: ignore[arg-type]
        with pytest.raises(SourceUnavailableError):
            await read_source(service, source, full=full, reader=killer)
        assert await directory_of(service, "corp") == before
        after = await operations.get(service, "corp")
        assert (after.cursor, after.last_status) == (source.cursor, "failed")
        own_dc.process = None
        start(own_dc)  # the same domain again, for the full read's turn
