"""A read that fails part-way changes nothing: slapd killed mid-read, slapd answering an error
part-way (a size limit), slapd frozen (it stops answering: the read times out while the event
loop keeps running). In each case the directory is as before the read, nothing is removed, the
cursor is kept, and the next read converges. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.ldap.reader import LdapReader
from enlist.provisioning.sources.model import Page, Round, SourceUnavailableError
from enlist.provisioning.sources.read import open_reader, read_source
from tests.contract.test_source_contract import directory_of
from tests.integration.ldap.helpers import person, reader_settings
from tests.ldap_servers.slapd import CAPPED_DN, READER_PASSWORD, Slapd
from tests.ldap_servers.slapd_world import ldap_settings


@pytest.fixture
def own_slapd() -> Iterator[Slapd]:
    """A slapd of this test's own, as it is killed or frozen."""
    server = Slapd(Path(tempfile.mkdtemp(prefix="enlist-slapd-own-")))
    server.configure()
    server.start()
    server.seed_base()
    yield server
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


async def _source(service: Service, server: Slapd, **extra: Any) -> tuple[str, list[str]]:
    branch = server.branch()
    conn = server.admin()
    dns = [person(conn, branch, f"user{i}")[0] for i in range(10)]
    await operations.add(
        service,
        "dir",
        "ldap",
        ldap_settings(server, branch, page_size=2, **extra),
        {"bind_password": READER_PASSWORD},
    )
    await read_source(service, await operations.get(service, "dir"))
    for dn in dns[6:]:
        conn.delete_s(dn)  # a full read now would remove 4 users: a cut one must remove none
    return branch, dns


class KillAfterFirstPage:
    """The source's reader; slapd is killed once the first page of a round is out."""

    def __init__(self, inner: Any, server: Slapd) -> None:
        self.inner, self.server = inner, server

    async def check(self) -> Any:
        return await self.inner.check()

    async def start_round(self, cursor: str | None, *, full: bool = False) -> Round:
        inner = await self.inner.start_round(cursor, full=full)
        server = self.server

        class Killed:
            kind = inner.kind

            async def pages(self) -> AsyncIterator[Page]:
                async for page in inner.pages():
                    yield page
                    server.kill()

            @property
            def cursor(self) -> str | None:
                return inner.cursor

        return Killed()


async def test_slapd_killed_mid_read_leaves_the_directory_as_it_was(
    service: Service, own_slapd: Slapd
) -> None:
    await _source(service, own_slapd)
    source = await operations.get(service, "dir")
    before = await directory_of(service, "dir")
    killer = KillAfterFirstPage(open_reader(source, service.secrets), own_slapd)
    with pytest.raises(SourceUnavailableError, match=r"stopped answering|does not answer"):
        await read_source(service, source, full=True, reader=killer)
    assert await directory_of(service, "dir") == before
    after = await operations.get(service, "dir")
    assert (after.cursor, after.last_status) == (source.cursor, "failed")
    own_slapd.start()
    result = (await read_source(service, after, full=True)).to_json()
    assert result["users_deleted"] == 4
    live = [u for u in (await directory_of(service, "dir"))["users"].values() if not u["deleted"]]
    assert len(live) == 6


async def test_an_error_part_way_through_a_read_leaves_the_directory_as_it_was(
    service: Service, own_slapd: Slapd
) -> None:
    await _source(service, own_slapd)
    before = await directory_of(service, "dir")
    await operations.configure(service, "dir", {"bind_dn": CAPPED_DN})  # paged reads stop after 3
    source = await operations.get(service, "dir")
    staged: list[int] = []
    with pytest.raises(SourceUnavailableError, match="size limit"):
        await read_source(service, source, full=True, progress=staged.append)
    assert staged, "the error came after a page was staged: part-way"
    assert await directory_of(service, "dir") == before
    await operations.configure(service, "dir", {"bind_dn": ldap_settings(own_slapd, "")["bind_dn"]})
    result = (await read_source(service, await operations.get(service, "dir"))).to_json()
    assert result["users_deleted"] == 4


async def test_a_frozen_server_times_out_and_the_event_loop_keeps_running(
    service: Service, own_slapd: Slapd
) -> None:
    await _source(service, own_slapd, timeout=1, connect_timeout=1)
    before = await directory_of(service, "dir")
    assert own_slapd.process is not None
    os.kill(own_slapd.process.pid, signal.SIGSTOP)
    ticks = 0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.05)

    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(
            SourceUnavailableError,
            match=r"did not answer within 1 s|stopped answering during a read \(timed out\)",
        ):
            await read_source(service, await operations.get(service, "dir"), full=True)
    finally:
        done.set()
        await ticker
        os.kill(own_slapd.process.pid, signal.SIGCONT)
    assert ticks >= 10, "the loop ran while the LDAP call waited in its thread"
    assert await directory_of(service, "dir") == before


async def test_a_read_cancelled_while_slapd_is_frozen_ends_cancelled_not_with_an_error(
    own_slapd: Slapd,
) -> None:
    branch = own_slapd.branch()
    person(own_slapd.admin(), branch, "ann")
    reader = LdapReader(reader_settings(own_slapd, branch, timeout=30))  # no timeout before the cancel
    round_ = await reader.start_round(None, full=True)

    async def read_all() -> list[Page]:
        return [page async for page in round_.pages()]

    assert own_slapd.process is not None
    os.kill(own_slapd.process.pid, signal.SIGSTOP)
    task = asyncio.create_task(read_all())
    await asyncio.sleep(0.3)  # the first step waits in its thread on the frozen server
    task.cancel()
    os.kill(own_slapd.process.pid, signal.SIGCONT)
    with pytest.raises(asyncio.CancelledError):
        await task
