"""Kill -9 the engine in the middle of a cycle, again and again, then let it finish: the portal
converges to exactly the directory, with nobody created twice.

Everything runs as an admin would: a real portal (`enlist lms serve`), and the provisioning
service through its command line (`enlist provisioning …`, SQLite in its data directory). Each
`app sync` is killed (SIGKILL: no cleanup, no lease released, buffers lost) at a random moment
after its cycle began; the next run takes the dead process's lease over. The kill points come
from a seeded generator, so a failure can be replayed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from enlist.provisioning.directory.files import DirectoryFile
from enlist.provisioning.directory.sample import sample_directory
from tests.live import ENLIST, LivePortal

SEED = 20261127
KILLS = 6
USERS = 150
APP = "Crash test portal"
UNASSIGNED = ("Mentors", "Sales")  # out of scope: their members only provisioned through other groups
SYNC_TIMEOUT_S = 120


class CachedLivePortal(LivePortal):
    """`LivePortal` whose processes keep their bytecode in a private cache (the environment may
    forbid writing it), so that each of the many `enlist` processes starts in a second."""

    pycache: Path | None = None

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if self.pycache is not None:
            env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        return env


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CachedLivePortal]:
    portal = CachedLivePortal(tmp_path_factory.mktemp("crash-portal"), None)
    portal.pycache = tmp_path_factory.getbasetemp() / "pycache"
    portal.start()
    yield portal
    portal.stop()


class Provisioning:
    """The provisioning service's command line, on a data directory of its own."""

    def __init__(self, portal: CachedLivePortal, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = portal.env()
        self.env["ENLIST_DATA_DIR"] = str(data_dir)
        self.env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [ENLIST, "provisioning", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=SYNC_TIMEOUT_S,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [ENLIST, "provisioning", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the service's SQLite database directly (the test's own view; WAL lets it read
        while a cycle writes)."""
        with sqlite3.connect(
            f"file:{self.data_dir / 'provisioning.sqlite3'}?mode=ro", uri=True, timeout=10
        ) as db:
            return db.execute(sql, params).fetchall()

    def cycles_started(self) -> int:
        return int(self.query("SELECT count(*) FROM cycles")[0][0])


def portal_listing(tenant_url: str, token: str, endpoint: str) -> list[dict[str, Any]]:
    """Every resource of `/Users` or `/Groups`, page by page."""
    found: list[dict[str, Any]] = []
    with httpx2.Client(base_url=tenant_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        while True:
            page = http.get(endpoint, params={"startIndex": len(found) + 1, "count": 100})
            assert page.status_code == 200, page.text
            body = page.json()
            resources = body.get("Resources", [])
            found += resources
            if not resources or len(found) >= body["totalResults"]:
                return found


def expected_state(directory: DirectoryFile, assigned: list[str]) -> tuple[set[str], dict[str, set[str]]]:
    """(the userNames in scope, {group: member userNames}) for groups assigned, no flattening."""
    enabled = {u.upn for u in directory.users if u.attributes.get("accountEnabled", True) is not False}
    assert directory.groups is not None
    groups = {
        g.display_name: set(g.members) & enabled for g in directory.groups if g.display_name in assigned
    }
    users = set().union(*groups.values())
    return users, groups


def portal_user_count(tenant_url: str, token: str) -> int:
    answer = httpx2.get(
        f"{tenant_url}/Users", params={"count": 0}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["totalResults"])


def kill_mid_cycle(service: Provisioning, rng: random.Random, tenant_url: str, token: str) -> str:
    """Start a sync, wait for its cycle to begin, SIGKILL it once it has created a random number
    of users or run a random while, whichever comes first. Returns what happened (for the
    failure message)."""
    before = service.cycles_started()
    process = service.popen("app", "sync", APP, "--json")
    deadline = time.monotonic() + 60
    while service.cycles_started() == before and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is not None:
        out, err = process.communicate()
        raise AssertionError(
            f"the sync ended before its cycle could be killed: {process.returncode} {out} {err}"
        )
    began, users_before = time.monotonic(), portal_user_count(tenant_url, token)
    after_users, after_s = rng.randint(1, 20), rng.uniform(0.1, 3.0)
    while (
        process.poll() is None
        and time.monotonic() - began < after_s
        and portal_user_count(tenant_url, token) - users_before < after_users
    ):
        time.sleep(0.02)
    if process.poll() is not None:
        process.communicate()
        return f"finished before the kill (after {after_users} users or {after_s:.2f} s)"
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()  # reaps it: the pid is gone, as after a crash
    assert process.returncode == -signal.SIGKILL
    made = portal_user_count(tenant_url, token) - users_before
    return f"killed after {time.monotonic() - began:.2f} s, {made} users created (aimed: {after_users} or {after_s:.2f} s)"


@pytest.mark.slow
def test_killed_mid_cycle_again_and_again_the_engine_converges_without_duplicates(
    live: CachedLivePortal, tmp_path: Path
) -> None:
    started = time.monotonic()
    tenant_url, token = live.tenant("crash")
    service = Provisioning(live, tmp_path / "provisioning")
    directory = sample_directory(users=USERS, groups=12, seed=7)
    file = tmp_path / "directory.json"
    file.write_text(json.dumps(directory.to_json()), encoding="utf-8")
    assert directory.groups is not None
    assigned = sorted(g.display_name for g in directory.groups if g.display_name not in UNASSIGNED)

    imported = json.loads(service.run("directory", "import", str(file), "--json"))
    assert imported["users_created"] == USERS
    created = json.loads(
        service.run("app", "create", APP, "--tenant-url", tenant_url, "--secret-token", token, "--json")
    )
    assert created["connected"] is True
    service.run("app", "assign", APP, *[arg for name in assigned for arg in ("--group", name)])
    service.run("app", "start", APP)

    rng = random.Random(SEED)
    history = [kill_mid_cycle(service, rng, tenant_url, token) for _ in range(KILLS)]
    killed = [h for h in history if h.startswith("killed")]
    assert len(killed) >= 5, history

    final = json.loads(service.run("app", "sync", APP, "--json"))
    failures = service.query(
        "SELECT object_kind, source_name, action, error_code, reason FROM provisioning_log "
        "WHERE cycle_id = ? AND status = 'failure'",
        final["cycle_id"],
    )
    assert final["status"] == "succeeded", (final, failures[:5], history)
    assert final["failed"] == 0, (final, failures[:5], history)
    if final["kind"] == "incremental":  # a run finished before its kill: one more to be sure
        final = json.loads(service.run("app", "sync", APP, "--json"))

    users, groups = expected_state(directory, assigned)
    in_portal = portal_listing(tenant_url, token, "/Users")
    names = [u["userName"] for u in in_portal]
    duplicates = sorted(n for n in set(names) if names.count(n) > 1)
    assert duplicates == [], (duplicates, history)
    assert sorted(names) == sorted(users), (
        f"missing {sorted(users - set(names))[:5]}, unexpected {sorted(set(names) - users)[:5]}; {history}"
    )
    assert all(u["active"] is True for u in in_portal)
    by_id = {u["id"]: u["userName"] for u in in_portal}
    portal_groups = portal_listing(tenant_url, token, "/Groups")
    group_names = [g["displayName"] for g in portal_groups]
    assert sorted(group_names) == sorted(groups), (group_names, history)
    for group in portal_groups:
        members = {by_id[m["value"]] for m in group.get("members", [])}
        assert members == groups[group["displayName"]], (group["displayName"], history)

    # The provisioning log: no user created twice into two target users.
    creates: dict[str, set[str]] = {}
    for source_id, target_id in service.query(
        "SELECT source_id, target_id FROM provisioning_log "
        "WHERE object_kind = 'user' AND action = 'create' AND status = 'success'"
    ):
        creates.setdefault(source_id, set()).add(target_id)
    assert {s: t for s, t in creates.items() if len(t) > 1} == {}, history
    linked = dict(service.query("SELECT source_id, target_id FROM links WHERE kind = 'user'"))
    assert set(linked.values()) == set(by_id), "every portal user is linked, once"
    assert {t for targets in creates.values() for t in targets} <= set(by_id), (
        "every create logged is in the portal"
    )

    # Once it is over, no cycle is still "running" (the Overview would say a cycle is in progress).
    running = service.query("SELECT id, started_at FROM cycles WHERE status = 'running'")
    assert running == [], (running, history)
    assert time.monotonic() - started < 240, "the crash loop took too long"
