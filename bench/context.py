"""What every scenario gets: the sizes of this run, its workspace, and the shared PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench import procs


@dataclass(frozen=True)
class Sizes:
    """Every size a scenario uses; `FULL` is the issue's, `QUICK` a smoke run's."""

    clients: int = 8
    # S1: Entra's initial-cycle replay.
    s1_users: int = 10_000
    s1_groups: int = 1_000
    s1_memberships: int = 100_000
    members_per_patch: int = 50
    # S2: the client's ceiling and the bare endpoint.
    s2_users: int = 500
    s2_seconds: float = 5.0
    # S3: big groups.
    s3_sizes: tuple[int, ...] = (10, 1_000, 100_000)
    s3_ops: int = 40
    s3_peer_sizes: tuple[int, ...] = (10, 1_000)
    s3_peer_ops: int = 10
    # S4, S5: the engine's cycles, on a directory of s4_users and one of s4_large_users users
    # (the same groups and memberships), then s5_changes changed users.
    s4_users: int = 10_000
    s4_groups: int = 1_000
    s4_memberships: int = 100_000
    s4_large_users: int = 100_000
    s5_changes: int = 100
    s4_budget_s: float = 120  # per cycle; the set-up (import, app) is not counted
    s4_large_budget_s: float = 120
    # S6: the portal on PostgreSQL with more worker processes.
    s6_users: int = 1_000
    s6_groups: int = 100
    s6_memberships: int = 10_000
    s6_workers: tuple[int, ...] = (1, 2, 4)


FULL = Sizes()
QUICK = Sizes(
    s1_users=150,
    s1_groups=15,
    s1_memberships=1_500,
    s2_users=100,
    s2_seconds=1.0,
    s3_sizes=(10, 100, 1_000),
    s3_ops=5,
    s3_peer_sizes=(10, 100),
    s3_peer_ops=5,
    s4_users=100,
    s4_groups=10,
    s4_memberships=1_000,
    s4_large_users=400,
    s5_changes=10,
    s4_budget_s=90,
    s4_large_budget_s=90,
    s6_users=100,
    s6_groups=10,
    s6_memberships=1_000,
    s6_workers=(1, 2),
)

TINY = Sizes(
    clients=4,
    s1_users=40,
    s1_groups=4,
    s1_memberships=200,
    s2_users=30,
    s2_seconds=0.3,
    s3_sizes=(10, 200),
    s3_ops=2,
    s3_peer_sizes=(10, 60),
    s3_peer_ops=2,
    s4_users=30,
    s4_groups=3,
    s4_memberships=60,
    s4_large_users=60,
    s5_changes=5,
    s4_budget_s=120,
    s4_large_budget_s=120,
    s6_users=30,
    s6_groups=3,
    s6_memberships=60,
    s6_workers=(1, 2),
)


@dataclass
class Context:
    ws: procs.Workspace
    sizes: Sizes
    budget_s: float
    quick: bool = False
    budget_scale: float = 1.0
    postgres: procs.Postgres | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    async def pg(self) -> procs.Postgres:
        """The run's PostgreSQL server, started on first use."""
        if self.postgres is None:
            self.postgres = await procs.Postgres(self.ws.dir("postgres")).start()
        return self.postgres
