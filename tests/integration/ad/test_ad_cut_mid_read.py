"""An AD read whose connection is cut part-way (after N pages, the DC still running, as a
dropped network flow looks) leaves nothing half-applied: the directory and the cursor are as
before the read. The next read completes, and the directory then equals the DC: every object
once, nothing lost (the changes the cut reads carried included). uSNChanged and DirSync, a
delta and a full read cut, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.model import Page, Round, SourceUnavailableError
from enlist.provisioning.sources.read import open_reader, read_source
from tests.contract.test_source_contract import directory_of
from tests.integration.ad.conftest import GROUP_FILTER, USER_FILTER
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC
from tests.ldap_servers.tcp_cut import TcpCut


class CutAfterPages:
    """The source's reader, its connection cut once `pages` pages of a round are out."""

    def __init__(self, inner: Any, cutter: TcpCut, pages: int) -> None:
        self.inner, self.cutter, self.pages = inner, cutter, pages
        self.handed = 0

    async def check(self) -> Any:
        return await self.inner.check()

    async def start_round(self, cursor: str | None, *, full: bool = False) -> Round:
        inner = await self.inner.start_round(cursor, full=full)
        outer = self

        class Cut:
            kind = inner.kind

            async def pages(self) -> AsyncIterator[Page]:
                async for page in inner.pages():
                    yield page
                    outer.handed += 1
                    if outer.handed == outer.pages:
                        outer.cutter.cut()

            @property
            def cursor(self) -> str | None:
                return inner.cursor

        return Cut()


@pytest.fixture
def cutter(samba_dc: SambaDC) -> Iterator[TcpCut]:
    forward = TcpCut(samba_dc.address, 389)
    yield forward
    forward.close()


def live(directory: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in directory["users"].items() if not v["deleted"]}


@pytest.mark.parametrize("delta", ["usn", "dirsync"])
async def test_a_read_cut_after_n_pages_applies_nothing_and_the_next_read_completes(
    service: Service, samba_dc: SambaDC, admin: Any, ou: str, cutter: TcpCut, delta: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    users = [seed.add_user(admin, ou, f"U{i}", upn=f"u{i}.{tag}@example.test") for i in range(10)]
    team = seed.add_group(admin, ou, "Team", users[:5])
    settings = {"url": cutter.url, "bind_dn": samba_dc.admin_dn, "base_dn": ou, "user_filter": USER_FILTER,
                "group_filter": GROUP_FILTER, "delta": delta, "page_size": 2}  # fmt: skip
    await operations.add(service, "corp", "ldap", settings, {"bind_password": samba_dc.password})
    first = (await read_source(service, await operations.get(service, "corp"))).to_json()
    assert (first["users_created"], first["groups_created"]) == (10, 1)
    for dn in users[7:]:
        seed.delete(admin, dn)
    for dn in users[:6]:
        seed.replace(admin, dn, title="Changed")
    hires = [seed.add_user(admin, ou, f"H{i}", upn=f"h{i}.{tag}@example.test") for i in range(3)]
    seed.add_members(admin, team, hires)

    source = await operations.get(service, "corp")
    before = await directory_of(service, "corp")
    for full, pages in ((False, 1), (True, 3)):
        cut = CutAfterPages(open_reader(source, service.secrets), cutter, pages)
        with pytest.raises(SourceUnavailableError):
            await read_source(service, source, full=full, reader=cut)
        assert cut.handed == pages  # it was cut part-way, not before its first page
        assert await directory_of(service, "corp") == before
        after = await operations.get(service, "corp")
        assert (after.cursor, after.last_status) == (source.cursor, "failed")

    done = (await read_source(service, await operations.get(service, "corp"))).to_json()
    assert (done["users_created"], done["users_deleted"]) == (3, 3)
    directory = await directory_of(service, "corp")
    people = live(directory)
    logins = sorted(u["upn"] for u in people.values())
    assert logins == sorted(
        {*(f"u{i}.{tag}@example.test" for i in range(7)), *(f"h{i}.{tag}@example.test" for i in range(3))}
    )
    assert sorted(u["jobTitle"] or "" for u in people.values()) == [""] * 4 + ["Changed"] * 6
    (group,) = directory["groups"].values()
    assert len(group["users"]) == 8  # U0-U4 (none deleted) and the three hires
    assert (await operations.get(service, "corp")).last_status == "ok"
