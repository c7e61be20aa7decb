"""The people's controls of the fake Graph (`python -m tests.fakes.graph change …`): every change
lands in the change log, so the next delta round reads it and the reader's view equals the
tenant again; a change naming what the tenant lacks, or with the wrong arguments, is refused and
changes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx2
import pytest

from tests.fakes.graph import control, demo
from tests.fakes.graph.__main__ import Controlled
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.server import serve
from tests.fakes.graph.tenant import Tenant
from tests.integration.sources.graph_helpers import Directory, reader_for, truth

ROOT = Path(__file__).resolve().parents[3]
# One use of every change the controls offer, on the demo tenant.
CHANGES = {
    "create-user": ["zoe@contoso.com", "displayName=Zoe Park", "department=Sales"],
    "update": ["eve@contoso.com", "department=Partners", "jobTitle=Partner Manager"],
    "rename": ["alan@contoso.com", "alan.turing@contoso.com"],
    "disable": ["grace@contoso.com"],
    "enable": ["ken@contoso.com"],
    "delete": ["dan@contoso.com"],
    "purge": ["mia@contoso.com"],
    "manager": ["eve@contoso.com", "ada@contoso.com"],
    "add-member": ["Sales", "cleo@contoso.com"],
    "remove-member": ["Engineering", "Platform"],
}


def test_every_change_the_controls_offer_is_exercised() -> None:
    assert set(CHANGES) | {"restore"} == set(control.OPERATIONS)


@pytest.mark.parametrize("op", list(CHANGES))
async def test_a_change_made_through_the_controls_is_read_by_the_next_delta_round(
    fake: FakeGraph, op: str
) -> None:
    demo.seed(fake.tenant)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))
    before = directory.view()

    control.apply(fake.tenant, op, CHANGES[op])
    graph_round = await reader.start_round(cursor)
    await directory.apply(graph_round)

    assert graph_round.kind == "delta"
    assert directory.view() == truth(fake)
    assert directory.view() != before


async def test_a_restore_brings_a_deleted_user_back_with_the_next_delta_round(fake: FakeGraph) -> None:
    demo.seed(fake.tenant)
    reader = reader_for(fake)
    directory = Directory()
    control.apply(fake.tenant, "delete", ["dan@contoso.com"])
    cursor = await directory.apply(await reader.start_round(None))
    assert demo.object_id("dan@contoso.com") not in directory.users

    control.apply(fake.tenant, "restore", ["dan@contoso.com"])
    await directory.apply(await reader.start_round(cursor))

    assert demo.object_id("dan@contoso.com") in directory.users
    assert directory.view() == truth(fake)


@pytest.mark.parametrize(
    ("op", "args", "said"),
    [
        ("rename", ["nobody@contoso.com", "x@contoso.com"], "no user nobody@contoso.com"),
        ("add-member", ["Marketing", "ada@contoso.com"], "no group Marketing"),
        ("manager", ["eve@contoso.com"], "usage: change manager UPN MANAGER_UPN|none"),
        ("restore", ["ada@contoso.com"], "only a deleted user can be restored"),
        ("remove-member", ["Sales", "ada@contoso.com"], "ada@contoso.com is not a member of Sales"),
        ("update", ["ada@contoso.com", "department"], "'department' is not PROPERTY=VALUE"),
        ("promote", ["ada@contoso.com"], "unknown change 'promote'"),
    ],
)
def test_a_change_the_tenant_cannot_take_is_refused_and_changes_nothing(
    op: str, args: list[str], said: str
) -> None:
    tenant = Tenant()
    demo.seed(tenant)
    head = tenant.head

    with pytest.raises(control.ChangeError, match=said.replace("|", r"\|")):
        control.apply(tenant, op, args)

    assert tenant.head == head, "nothing was written to the change log"


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.graph",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_the_change_command_changes_a_running_fake_or_says_why_not() -> None:
    """`python -m tests.fakes.graph change …` from another process: a change lands (exit 0, what
    was done); a refused one exits 1 with the reason; a body that is not a change is a 400."""
    fake = FakeGraph()
    demo.seed(fake.tenant)
    async with serve(fake, app=Controlled(fake)):
        env = {**os.environ, "FAKE_GRAPH_URL": fake.graph_base}
        done = await _cli("change", "disable", "ada@contoso.com", env=env)
        refused = await _cli("change", "restore", "ada@contoso.com", env=env)
        async with httpx2.AsyncClient() as http:
            garbage = await http.post(f"{fake.graph_base}/_fake/change", content=b"{}")
        shown = await _cli("show", env=env)

    assert done == (0, "disabled ada@contoso.com\n")
    assert refused == (1, "error: only a deleted user can be restored\n")
    assert garbage.status_code == 400
    assert fake.tenant.users[demo.object_id("ada@contoso.com")]["accountEnabled"] is False
    users = {u["userPrincipalName"]: u for u in json.loads(shown[1])["users"]}
    assert users["ada@contoso.com"]["accountEnabled"] is False
