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
    s3_whole: int = 50_000  # the whole-member-list shapes (Okta's PUT, a replace, one add per member)
    # S4 time: the engine's initial cycle into the portal, within s4_budget_s (the set-up, i.e.
    # the portal, the import and the app, is not counted).
    s4_users: int = 10_000
    s4_groups: int = 1_000
    s4_memberships: int = 100_000
    s4_budget_s: float = 120
    # S4 engine alone, S4 memory: initial cycles against the null target, users only (with the
    # groups and memberships in proportion the 10,000-user cycle alone would take minutes more),
    # each within its budget. The engine creates about 400 users a second here, so the
    # 100,000-user cycle takes some 4 minutes; past its budget it reports its peak so far
    # (`--engine-budget` gives both cycles longer).
    s4_alone_users: tuple[int, int] = (10_000, 100_000)
    s4_alone_budget_s: tuple[float, float] = (90, 330)
    # S5: an incremental cycle after s5_changes changed users, in synced directories of s5_users.
    s5_users: tuple[int, int] = (10_000, 100_000)
    s5_changes: int = 100
    s5_cycle_s: float = 60
    # S6: the portal on PostgreSQL with more worker processes.
    s6_users: int = 1_000
    s6_groups: int = 100
    s6_memberships: int = 10_000
    s6_workers: tuple[int, ...] = (1, 2, 4)
    # S7: the Graph reader's initial read and a delta round of s7_changes, at two tenant sizes.
    s7_users: tuple[int, int] = (20_000, 100_000)  # 20,000: a full page of 200 groups of 100
    s7_changes: int = 100
    # S8: the LDAP reader against slapd (a tree seeded with slapadd): users at two sizes, a group
    # per s8_users_per_group users, and a delta of s8_changes changes.
    s8_users: tuple[int, int] = (10_000, 50_000)
    s8_users_per_group: int = 25
    s8_changes: int = 100
    # S10: the department tree rule switched on, every user placed at once, at two sizes.
    s10_users: tuple[int, int] = (10_000, 100_000)


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
    s3_whole=2_000,
    s4_users=100,
    s4_groups=10,
    s4_memberships=1_000,
    s4_budget_s=90,
    s4_alone_users=(100, 400),
    s4_alone_budget_s=(90, 90),
    s5_users=(100, 400),
    s5_changes=10,
    s6_users=100,
    s6_groups=10,
    s6_memberships=1_000,
    s6_workers=(1, 2),
    s7_users=(500, 2_000),
    s7_changes=20,
    s8_users=(500, 2_000),
    s8_changes=20,
    s10_users=(200, 2_000),
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
    s3_whole=300,
    s4_users=30,
    s4_groups=3,
    s4_memberships=60,
    s4_budget_s=120,
    s4_alone_users=(30, 60),
    s4_alone_budget_s=(120, 120),
    s5_users=(30, 60),
    s5_changes=5,
    s6_users=30,
    s6_groups=3,
    s6_memberships=60,
    s6_workers=(1, 2),
    s7_users=(100, 400),
    s7_changes=10,
    s8_users=(100, 400),
    s8_changes=10,
    s10_users=(50, 500),
)


@dataclass
class Context:
    ws: procs.Workspace
    sizes: Sizes
    budget_s: float
    quick: bool = False
    budget_scale: float = 1.0
    engine_budget_s: float | None = None  # `--engine-budget`: each null-target cycle of S4
    postgres: procs.Postgres | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    async def pg(self) -> procs.Postgres:
        """The run's PostgreSQL server, started on first use."""
        if self.postgres is None:
            self.postgres = await procs.Postgres().start()
        return self.postgres
