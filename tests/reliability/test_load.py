"""The portal under a bounded load on loopback: 8 connections for 15 s of Entra's mix (matching
queries, creates, attribute and membership PATCHes). No request fails and every answered write
is in the portal afterwards. The latency figures are printed (`-s`) for docs/reliability.md and
never asserted: the machine is shared. `make soak` runs the same for as long as you like.
"""

from __future__ import annotations

from pathlib import Path

from tests.reliability.loadgen import run_load
from tests.reliability.rig import Server

SECONDS = 15
CONNECTIONS = 8
SEED = 8


async def test_a_bounded_load_has_no_errors_and_loses_no_write(
    lms_database_url: str, database_kind: str, tmp_path: Path
) -> None:
    server = Server(tmp_path / "portal", lms_database_url).start()
    try:
        tenant_url, token = server.tenant("load")
        report = await run_load(tenant_url, token, seconds=SECONDS, connections=CONNECTIONS, seed=SEED)
    finally:
        server.stop()
    print(f"\nload ({database_kind}, {CONNECTIONS} connections):\n{report.summary()}")  # noqa: T201
    assert report.errors == [], report.errors[:5]
    assert report.missing == [], report.missing[:5]
    assert report.requests > CONNECTIONS, "the load ran"
    assert report.created, "the mix created users"
    assert any(report.joins.values()), "the mix joined users to groups"
