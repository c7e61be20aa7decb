"""The admin pages stay usable at 1,000,000 provisioning log records and 100,000 directory users.

Measured by statements, not seconds: each page runs the same small number of SQL statements on a
database with a million log records and a hundred thousand users (and as many assignments) as on
one with sixty of each, and SQLite's plan for every statement that reads a big table searches an
index, or walks one in order under a LIMIT: no table scan, no sort.

Both databases are built once for the module, by the migrations and then bulk inserts in one
transaction each (`INSERT … SELECT` over a recursive counter: SQLite makes the rows itself, which
is several times faster than feeding them from Python).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from enlist.db.database import Database
from enlist.db.migrate import upgrade
from enlist.provisioning.api.app import create_app
from enlist.provisioning.service import MIGRATIONS, VERSION_TABLE, Service, register_tables
from enlist.secretbox import load_secret_box
from enlist.settings import Settings
from enlist.web.accounts import AdminExistsError
from enlist.web.paging import encode_cursor
from tests.databases import recorded_statements
from tests.web.session import make_admin, sign_in

BIG_LOGS, BIG_USERS = 1_000_000, 100_000
TINY_LOGS, TINY_USERS = 60, 60
BIG_TABLES = ("provisioning_log", "dir_users", "assignments", "dir_group_members")
APP_PATH = "/admin/apps/Portal"
MOST_STATEMENTS = 12  # a page's budget, whatever the size of the data


def build(path: Path, logs: int, users: int) -> None:
    """A migrated provisioning database with one application, `logs` log records for it,
    `users` directory users, 100 groups of 10 members, and every user and group assigned."""
    register_tables()

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db, MIGRATIONS, VERSION_TABLE)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    stamp = "2026-11-01 00:00:00.000000"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute(
            "INSERT INTO applications (id, name, name_ci, settings, user_mapping, group_mapping, scoping, "
            "state, allow_deletes, created_at, updated_at) VALUES (1, 'Portal', 'portal', '{}', "
            '\'{"object_kind": "user", "enabled": true, "attributes": []}\', '
            '\'{"object_kind": "group", "enabled": true, "attributes": []}\', \'[]\', \'stopped\', 0, ?, ?)',
            (stamp, stamp),
        )
        counter = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        statuses = "CASE WHEN i % 5 = 0 THEN 'failure' WHEN i % 7 = 0 THEN 'skipped' ELSE 'success' END"
        actions = "CASE i % 3 WHEN 0 THEN 'create' WHEN 1 THEN 'update' ELSE 'other' END"
        conn.execute(
            "INSERT INTO provisioning_log (app_id, cycle_id, change_id, at, action, status, object_kind, "
            "source_id, source_name, target_id, steps, modified, duration_ms) "
            + counter
            + f"SELECT 1, 'cycle-' || (i / 10000), 'change-' || i, "
            f"strftime('%Y-%m-%d %H:%M:%f000', '2026-11-01', '+' || (i / 100) || ' seconds'), {actions}, "
            f"{statuses}, 'user', printf('u%07d', i % {users}), 'user' || (i % {users}) || '@contoso.com', "
            "'t' || i, '[]', '[]', 1.5 FROM n",
            (logs,),
        )
        conn.execute(
            "INSERT INTO dir_users (id, upn, upn_ci, attributes, account_enabled, updated_at, seq) "
            + counter
            + "SELECT printf('u%07d', i), 'user' || i || '@contoso.com', 'user' || i || '@contoso.com', "
            "json_object('userPrincipalName', 'user' || i || '@contoso.com', 'displayName', 'User ' || i, "
            "'mail', 'user' || i || '@contoso.com', 'department', 'Dept ' || (i % 40)), 1, ?, i FROM n",
            (users, stamp),
        )
        conn.execute(
            "INSERT INTO dir_groups (id, display_name, display_name_ci, attributes, updated_at, seq) "
            + counter
            + "SELECT printf('g%04d', i), 'Group ' || i, 'group ' || i, json_object('displayName', 'Group ' || i), "
            "?, i FROM n",
            (100, stamp),
        )
        conn.execute(
            "INSERT INTO dir_group_members (group_id, member_id, member_type) "
            + counter
            + "SELECT printf('g%04d', 1 + i % 100), printf('u%07d', i), 'user' FROM n",
            (min(1000, users),),
        )
        conn.execute(
            "INSERT INTO assignments (app_id, kind, source_id, assigned_at) "
            "SELECT 1, 'user', id, ? FROM dir_users UNION ALL SELECT 1, 'group', id, ? FROM dir_groups",
            (stamp, stamp),
        )


@dataclass
class Dataset:
    path: Path
    client: httpx2.AsyncClient
    service: Service


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scale")
    made = {"big": root / "big.sqlite3", "tiny": root / "tiny.sqlite3"}
    build(made["big"], BIG_LOGS, BIG_USERS)
    build(made["tiny"], TINY_LOGS, TINY_USERS)
    return made


@pytest.fixture
async def dataset(databases: dict[str, Path], tmp_path: Path) -> AsyncIterator[dict[str, Dataset]]:
    """Both databases behind the provisioning app, with an admin signed in to each."""
    opened: dict[str, Dataset] = {}
    try:
        for name, path in databases.items():
            settings = Settings(
                data_dir=tmp_path / name,
                lms_database_url=f"sqlite+aiosqlite:///{tmp_path / 'lms.sqlite3'}",
                provisioning_database_url=f"sqlite+aiosqlite:///{path}",
                token_pepper="scale-test-pepper",  # type: ignore[arg-type]
            )
            service = Service(settings, Database(settings.provisioning_url()), load_secret_box(settings))
            app = create_app(settings, scheduler=False, service=service)
            client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://p.test")
            opened[name] = Dataset(path, client, service)
            with contextlib.suppress(AdminExistsError):  # the databases outlive one test
                await make_admin(service.db, f"{name}@example.com")
            await sign_in(client, f"{name}@example.com")
        yield opened
    finally:
        for d in opened.values():
            await d.client.aclose()
            await d.service.db.dispose()


def statements(service: Service) -> AbstractContextManager[list[tuple[str, Any]]]:
    return recorded_statements(service.db, lambda sql, parameters: (sql, parameters))


SCOPES = frozenset({"app_id", "group_id", "kind", "status", "action"})  # narrow a table, not a row


def plan_problems(path: Path, executed: list[tuple[str, Any]]) -> list[str]:
    """Each statement on a big table whose plan scans it without an index, walks an index with
    no LIMIT to stop it, searches it by a scope only (all of one application's records) with no
    LIMIT, or sorts."""
    problems = []
    with sqlite3.connect(path) as conn:
        for statement, parameters in executed:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            limited = "LIMIT" in statement.upper()
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement, parameters or ())]
            for line in plan:
                big = any(re.search(rf"\b{t}\b", line) for t in BIG_TABLES)
                keys = set(re.findall(r"(\w+)[=<>]", line))
                wrong = "TEMP B-TREE" in line or (
                    big
                    and (
                        (line.startswith("SCAN") and ("USING" not in line or not limited))
                        or (line.startswith("SEARCH") and not limited and keys <= SCOPES)
                    )
                )
                if wrong:
                    problems.append(f"{line}  <-  {' '.join(statement.split())[:300]}")
    return problems


def pages(size: str) -> dict[str, str]:
    users = BIG_USERS if size == "big" else TINY_USERS
    logs = BIG_LOGS if size == "big" else TINY_LOGS
    deep_user = f"user{users * 9 // 10}@contoso.com"
    return {
        "logs, first page": f"{APP_PATH}/logs",
        "logs, filtered by status": f"{APP_PATH}/logs?status=failure",
        "logs, filtered by action": f"{APP_PATH}/logs?action=create",
        "logs, a deep page": f"{APP_PATH}/logs?after={encode_cursor([logs // 2])}",
        "logs, a deep filtered page": f"{APP_PATH}/logs?status=failure&after={encode_cursor([logs // 2])}",
        "a log record": f"{APP_PATH}/logs/{logs // 2}?tab=summary",
        "directory users, first page": "/admin/directory/users",
        "directory users, searched": "/admin/directory/users?q=user5",
        "directory users, a deep page": f"/admin/directory/users?after={encode_cursor([deep_user])}",
        "a directory group": "/admin/directory/groups/g0007",
        "assignments, first page": f"{APP_PATH}/users-and-groups",
        "assignments, a deep page": f"{APP_PATH}/users-and-groups?after={encode_cursor(['user', f'u{users // 2:07d}'])}",
    }


async def test_each_page_runs_a_few_statements_whatever_the_size_of_the_data(
    dataset: dict[str, Dataset],
) -> None:
    counts: dict[str, dict[str, int]] = {}
    for size_name, d in dataset.items():
        counts[size_name] = {}
        for label, path in pages(size_name).items():
            with statements(d.service) as seen:
                page = await d.client.get(path)
            assert page.status_code == 200, (size_name, label, page.text[:500])
            assert "<tr" in page.text or "<dl" in page.text, (size_name, label)  # it shows data
            counts[size_name][label] = len(seen)
    assert counts["big"] == counts["tiny"]
    assert max(counts["big"].values()) <= MOST_STATEMENTS, counts["big"]


async def test_no_page_scans_or_sorts_a_big_table(dataset: dict[str, Dataset]) -> None:
    d = dataset["big"]
    problems: dict[str, list[str]] = {}
    for label, path in pages("big").items():
        with statements(d.service) as seen:
            assert (await d.client.get(path)).status_code == 200
        found = plan_problems(d.path, seen)
        if found:
            problems[label] = found
    assert problems == {}


async def test_a_deep_page_shows_the_rows_after_its_cursor(dataset: dict[str, Dataset]) -> None:
    d = dataset["big"]
    page = await d.client.get(f"{APP_PATH}/logs?after={encode_cursor([500_001])}")
    assert f'{APP_PATH}/logs/500000"' in page.text
    assert f'{APP_PATH}/logs/500001"' not in page.text
    users = await d.client.get(f"/admin/directory/users?after={encode_cursor(['user90000@contoso.com'])}")
    assert "user90001@contoso.com" in users.text
    assert "user90000@contoso.com" not in users.text


def test_the_plan_check_finds_scans_sorts_and_unbounded_searches(databases: dict[str, Path]) -> None:
    bad = [
        ("SELECT count(*) FROM dir_users", ()),
        ("SELECT id FROM provisioning_log WHERE app_id = ? ORDER BY source_name LIMIT 5", (1,)),
        ("SELECT id FROM provisioning_log WHERE app_id = ? AND source_name LIKE ?", (1, "%x%")),
    ]
    good = [
        ("SELECT id FROM provisioning_log WHERE app_id = ? AND id < ? ORDER BY id DESC LIMIT 51", (1, 9)),
        ("SELECT id FROM provisioning_log WHERE app_id = ? AND id = ?", (1, 9)),
    ]
    assert len(plan_problems(databases["big"], bad)) == len(bad)
    assert plan_problems(databases["big"], good) == []
