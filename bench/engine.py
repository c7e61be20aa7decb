"""The provisioning engine as S4 and S5 drive it: its real commands, in processes of their own.

`Engine.create` gives one provisioning data directory (SQLite) and the environment of its
`enlist` commands. A directory file is imported with `enlist provisioning directory import`,
the application is created against a target with `app create` (Tenant URL, Secret token) and
`app set scope=all` (Entra's *Sync all*), and each cycle is one `enlist provisioning app sync
--json`, run under `bench.measure` and watched (`procs.watched`): wall time, CPU, peak RSS.

`Engine.mark_synced` is the one shortcut: it writes what an initial cycle leaves behind (a link
per user, carrying the values the engine last wrote, and the watermark) straight into the
provisioning database, with the engine's own mapping and store functions, so that S5 can start
its incremental cycle from a synced 100,000-user directory without first sending 200,000 requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.portal import Target
from bench.replay import Workload
from enlist.db.database import Database
from enlist.provisioning.directory import store as directory_store
from enlist.provisioning.engine.mapped import Mappings
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store import links as link_store

APP = "Bench"
SETUP_S = 180  # the most a setup command (an import) may take; not part of any target
PAGE = 2_000  # links written per transaction by `mark_synced`


def directory(w: Workload, changed: int = 0, *, groups: bool = True) -> dict[str, Any]:
    """The directory of `w` as an import file (users, and with `groups` its groups); with
    `changed`, only the first `changed` users, with a new job title."""
    users = [
        {
            "userPrincipalName": w.user_name(i),
            "givenName": "Bench",
            "surname": f"User {i}",
            "displayName": f"Bench User {i}",
            "mail": w.user_name(i),
            "jobTitle": "Senior engineer" if changed else "Engineer",
            "department": f"Dept {i % 50}",
        }
        for i in range(changed or w.users)
    ]
    if changed or not groups:
        return {"users": users}
    members = [
        {"displayName": w.group_name(g), "members": [w.user_name(u) for u in w.members_of(g)]}
        for g in range(w.groups)
    ]
    return {"users": users, "groups": members}


@dataclass
class Cycle:
    """One `app sync`: what it used and, when it ended within its limit, its summary."""

    watched: procs.Watched
    summary: dict[str, Any] | None

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def details(self) -> dict[str, Any]:
        m = self.watched.measured
        return {
            "finished": self.finished,
            "wall_s": round(m.wall_s, 2) if m else None,
            "cpu_s": round(m.cpu_s, 2) if m else None,
            "peak_rss_mib": round(self.watched.peak_rss_mib, 1),
            "summary": self.summary,
            # RSS and progress every few seconds: how memory grew with the work done.
            "samples": [
                [round(s.at_s, 1), round(s.rss_mib, 1), s.progress] for s in self.watched.samples[::5]
            ],
        }


@dataclass
class Engine:
    """One provisioning data directory and the environment of its `enlist` commands."""

    data: Path
    env: dict[str, str]

    @classmethod
    def create(cls, ws: procs.Workspace, label: str) -> Engine:
        data = ws.dir(label)
        return cls(data, ws.env(data))

    async def import_directory(self, document: dict[str, Any], name: str = "directory.json") -> float:
        """`enlist provisioning directory import` of `document`; the seconds it took."""
        file = self.data / name
        file.write_text(json.dumps(document))
        started = time.perf_counter()
        await procs.enlist(self.env, "provisioning", "directory", "import", str(file), limit_s=SETUP_S)
        return time.perf_counter() - started

    async def connect(self, target: Target) -> None:
        """The application `APP`, connected to `target`, scope "all users and groups"."""
        await procs.enlist(
            self.env, "provisioning", "app", "create", APP, "--tenant-url", target.scim_base,
            "--secret-token", target.token,
        )  # fmt: skip
        await procs.run([procs.ENLIST, "provisioning", "app", "set", APP, "scope=all"], self.env)

    async def sync(self, seconds: float, progress: Callable[[], Awaitable[int]] | None = None) -> Cycle:
        """One `app sync`, stopped after `seconds`. A cycle that ends but does not succeed (or
        fails an object) raises `BenchError`."""
        argv = [procs.ENLIST, "provisioning", "app", "sync", APP, "--json"]
        watched = await procs.watched(argv, self.env, max(seconds, 1), progress)
        if watched.measured is None:
            return Cycle(watched, None)
        summary = json.loads(watched.measured.stdout)
        if summary.get("status") != "succeeded" or summary.get("failed"):
            raise procs.BenchError(f"the {summary.get('kind')} cycle did not succeed: {summary}")
        return Cycle(watched, summary)

    async def status(self) -> dict[str, Any]:
        status: dict[str, Any] = await procs.enlist(
            self.env, "provisioning", "app", "status", APP, limit_s=60
        )
        return status

    async def mark_synced(self, target_id: Callable[[int], str]) -> int:
        """Link every user of the directory as an initial cycle would (`target_id(n)` for the
        n-th, in id order), with the values the app's mapping gives it as the last state
        written, and move the watermark past every change so far; the links written."""
        db = Database(f"sqlite+aiosqlite:///{self.data / 'provisioning.sqlite3'}")
        try:
            async with db.read() as conn:
                app = await app_store.get_app(conn, APP)
            mappings = Mappings.from_app(app)
            count = 0
            async with db.read() as reading:
                async for page in directory_store.iter_users(reading, PAGE):
                    saved = {}
                    for user in page:
                        state = mappings.user_values(user, creating=True)
                        saved[user.id] = (target_id(count), state, False)
                        count += 1
                    async with db.write() as conn:
                        await link_store.save_links(conn, app.id, "user", saved)
            async with db.write() as conn:
                seq = await directory_store.current_seq(conn)
                await app_store.update_app(conn, app.id, watermark=seq)
            return count
        finally:
            await db.dispose()
