"""The portal's pages at 100,000 users and 1,000,000 sync log records: measured in SQL statements.

One SQLite database is built once for the module, straight into the tables (indexes dropped
while loading and rebuilt from their own definitions after, which is how a bulk load is done):
tenant `big` with 100,000 users in 100 departments, 50 groups (one of 10,000 members) and
1,000,000 sync log records; tenant `tiny` with three of each. Every page must run the same small
number of statements for both tenants, and every statement must reach the big tables through an
index, never by reading them whole or sorting them.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from enlist.db.database import Database
from enlist.db.migrate import upgrade
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import MIGRATIONS, VERSION_TABLE, Portal
from enlist.lms.secrets import load_peppers
from enlist.lms.store import synclog
from enlist.settings import Settings
from enlist.web.paging import encode_cursor
from tests.conftest import TEST_PEPPER
from tests.web.session import make_admin, sign_in

USERS = 100_000
LOG_RECORDS = 1_000_000
MEMBERS = 10_000
DEPARTMENTS = 100
GROUPS = 50
MAX_STATEMENTS = 8
BIG_TABLES = ("users", "sync_log", "group_members", "user_emails")
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


def _build(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-200000")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN "
        f"({','.join('?' * len(BIG_TABLES))})",
        BIG_TABLES,
    ).fetchall()
    for name, _sql in indexes:
        db.execute(f'DROP INDEX "{name}"')
    day = "2026-01-01 00:00:00.000000"
    policy = '{"group_mode": "both"}'
    db.executemany(
        "INSERT INTO tenants (id, slug, name, policy, root_department_id, created_at) VALUES (?,?,?,?,?,?)",
        [(1, "big", "Big", policy, "big-root", day), (2, "tiny", "Tiny", policy, "tiny-root", day)],
    )
    db.executemany(
        "INSERT INTO departments (id, tenant_id, parent_id, name, source_group_id, created_at) VALUES (?,?,?,?,?,?)",
        [("big-root", 1, None, "Big", None, day), ("tiny-root", 2, None, "Tiny", None, day)]
        + [(f"d{i:03d}", 1, "big-root", f"Department {i:03d}", None, day) for i in range(DEPARTMENTS)],
    )
    columns = (
        "id, tenant_id, user_name, user_name_ci, display_name, display_name_ci, family_name, family_name_ci, "
        "email, manager_id, department_id, status, active_shown, doc, version, created_at, updated_at, "
        "status_changed_at"
    )

    def users(tenant: int, count: int, prefix: str) -> Iterator[tuple[Any, ...]]:
        for i in range(count):
            login = f"{prefix}{i:06d}@example.com"
            status = "terminated" if i % 20 == 0 else "inactive" if i % 10 == 0 else "active"
            department = f"d{i % DEPARTMENTS:03d}" if tenant == 1 else "tiny-root"
            manager = f"{prefix}-{i // 10:06d}" if i >= 10 else None
            doc = f'{{"userName": "{login}", "displayName": "Person {i}"}}'
            yield (
                f"{prefix}-{i:06d}", tenant, login, login, f"Person {i}", f"person {i}", f"Family{i % 997}",
                f"family{i % 997}", login, manager, department, status, 1, doc, 1, day, day, day,
            )  # fmt: skip

    sql = f"INSERT INTO users ({columns}) VALUES ({','.join('?' * 18)})"
    db.executemany(sql, users(1, USERS, "big"))
    db.executemany(sql, users(2, 3, "tiny"))
    db.executemany(
        "INSERT INTO user_emails (user_id, position, tenant_id, value_ci, type, is_primary) VALUES (?,?,?,?,?,?)",
        [(f"big-{i:06d}", 0, 1, f"big{i:06d}@example.com", "work", 1) for i in range(USERS)]
        + [(f"tiny-{i:06d}", 0, 2, f"tiny{i:06d}@example.com", "work", 1) for i in range(3)],
    )
    db.executemany(
        "INSERT INTO groups (id, tenant_id, display_name, display_name_ci, external_id, doc, version, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [(f"g{i:03d}", 1, f"Group {i:03d}", f"group {i:03d}", None, "{}", 1, day, day) for i in range(GROUPS)]
        + [("tiny-g", 2, "Tiny group", "tiny group", None, "{}", 1, day, day)],
    )
    db.executemany(
        "INSERT INTO group_members (group_id, user_id, tenant_id, added_at, display) VALUES (?,?,?,?,?)",
        [("g000", f"big-{i:06d}", 1, f"2026-01-01 {i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000000", None)
         for i in range(MEMBERS)]
        + [("tiny-g", f"tiny-{i:06d}", 2, day, None) for i in range(3)],
    )  # fmt: skip
    # 1,000,000 entries, one every 2 s from 2026-01-01, generated inside SQLite (no Python loop).
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO sync_log (tenant_id, at, method, path, status, action, resource_type, resource_id, "
        "resource_name, changes, duration_ms, error) "
        "SELECT 1, strftime('%Y-%m-%d %H:%M:%f000', ? + i * 2, 'unixepoch'), 'PATCH', "
        "'/scim/v2/big/Users/big-' || printf('%06d', i % ?), CASE WHEN i % 50 THEN 200 ELSE 409 END, "
        "'update', 'User', 'big-' || printf('%06d', i % ?), 'big' || printf('%06d', i % ?) || '@example.com', "
        '\'[{"attribute": "title", "old": "a", "new": "b"}]\', 1.5, '
        "CASE WHEN i % 50 THEN NULL ELSE 'uniqueness' END FROM n",
        (LOG_RECORDS - 1, EPOCH, USERS, USERS, USERS),
    )
    db.executemany(
        "INSERT INTO sync_log (tenant_id, at, method, path, status, action, resource_type, resource_id, "
        "resource_name, changes, duration_ms, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (2, day, "PATCH", "/scim/v2/tiny/Users/tiny-000001", 200 if i else 409, "update", "User",
             "tiny-000001", "tiny000001@example.com", "[]", 1.0, None if i else "uniqueness")
            for i in range(3)
        ],
    )  # fmt: skip
    for _name, index_sql in indexes:
        db.execute(index_sql)
    db.commit()
    db.close()


@dataclass
class Recorder:
    """The SQL statements every engine runs while `on`."""

    on: bool = False
    statements: list[tuple[str, Any]] = field(default_factory=list)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if self.on and statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"):
            self.statements.append((statement, parameters))


@dataclass
class Scale:
    client: httpx2.AsyncClient
    recorder: Recorder
    path: Path

    async def measure(self, url: str) -> tuple[httpx2.Response, list[tuple[str, Any]]]:
        self.recorder.statements = []
        self.recorder.on = True
        try:
            page = await self.client.get(url)
        finally:
            self.recorder.on = False
        assert page.status_code == 200, (url, page.text[:500])
        return page, list(self.recorder.statements)

    def plans(self, statements: list[tuple[str, Any]]) -> list[list[str]]:
        db = sqlite3.connect(self.path)
        try:
            return [
                [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params)]
                for sql, params in statements
            ]
        finally:
            db.close()


@pytest.fixture(scope="module")
def database_kind() -> str:
    return "sqlite"


@pytest.fixture(scope="module")
async def scale(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scale]:
    root = tmp_path_factory.mktemp("scale")
    path = root / "portal.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    migrating = Database(url)
    await upgrade(migrating, MIGRATIONS, VERSION_TABLE)
    await migrating.dispose()
    _build(path)
    settings = Settings(
        data_dir=root / "var",
        lms_database_url=url,
        lms_public_url="http://portal.test",
        token_pepper=TEST_PEPPER,  # type: ignore[arg-type]
    )
    portal = Portal(settings, Database(url), load_peppers(settings))
    recorder = Recorder()
    event.listen(sa.engine.Engine, "before_cursor_execute", recorder)
    try:
        await make_admin(portal.db)
        app = create_app(settings, portal)
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://portal.test"
        ) as c:
            await sign_in(c)
            yield Scale(c, recorder, path)
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", recorder)
        await portal.db.dispose()


def _next(page: httpx2.Response) -> str:
    found = re.search(r'rel="next" href="([^"]+)"', page.text)
    assert found, "no Next page link"
    return html.unescape(found.group(1))


def _log_cursor(path: Path, tenant_id: int, nth_oldest: int) -> str:
    db = sqlite3.connect(path)
    try:
        at, entry_id = db.execute(
            "SELECT at, id FROM sync_log WHERE tenant_id = ? ORDER BY id LIMIT 1 OFFSET ?",
            (tenant_id, nth_oldest),
        ).fetchone()
    finally:
        db.close()
    return encode_cursor([at.replace(" ", "T") + "+00:00", entry_id])


PAGES: dict[str, str] = {
    "users, first page": "/users",
    "users, deep page": "/users?after={user_cursor}",
    "users, search with few matches": "/users?q={prefix}000099",
    "users, search with many matches": "/users?q={prefix}",
    "users, search by family name": "/users?q=family1",
    "users, status filter": "/users?status=inactive",
    "users, department filter": "/users?department={department}",
    "a user's page": "/users/{prefix}-000001",
    "sync log, first page": "/log",
    "sync log, failures": "/log?status=failure",
    "sync log, a status code": "/log?status=409",
    "sync log, time window": "/log?since=2026-01-10T00:00&until=2026-01-11T00:00",
    "sync log, one resource": "/log?resource_id={prefix}-000001",
    "sync log, deep page": "/log?after={log_cursor}",
    "sync log entry": "/log/{entry}",
    "groups": "/groups",
    "user synchronization": "/sync",
}
TENANTS = {
    "big": {
        "prefix": "big",
        "user_cursor": encode_cursor(["big090000@example.com"]),
        "department": "d042",
        "entry": "500000",
    },
    "tiny": {
        "prefix": "tiny",
        "user_cursor": encode_cursor(["tiny000000@example.com"]),
        "department": "tiny-root",
    },
}


# Sorts that are bounded by something smaller than the tenant: one user's groups, and the failed
# requests (a range of the status index; failures are a small part of any working log, and a
# page of them is found without reading the successes).
BOUNDED_SORTS = ("group_members.user_id = ?", "sync_log.status >= ?")


def _check_plans(name: str, statements: list[tuple[str, Any]], plans: list[list[str]]) -> None:
    for (sql, _params), plan in zip(statements, plans, strict=True):
        if any(bounded in sql for bounded in BOUNDED_SORTS):
            plan = [step for step in plan if "TEMP B-TREE" not in step]  # noqa: PLW2901
        for step in plan:
            for table in BIG_TABLES:
                scanned = re.match(rf"SCAN {table}\b", step)
                assert not scanned or "INDEX" in step, f"{name}: reads all of {table}: {plan}\n{sql}"
            big = any(re.search(rf"\b{table}\b", other) for other in plan for table in BIG_TABLES)
            assert not big or "TEMP B-TREE FOR ORDER BY" not in step, f"{name}: sorts rows: {plan}\n{sql}"


@pytest.mark.parametrize("name", list(PAGES))
async def test_a_page_runs_the_same_few_indexed_statements_at_any_size(scale: Scale, name: str) -> None:
    counts = {}
    for tenant, known in TENANTS.items():
        values = {**known, "log_cursor": _log_cursor(scale.path, 1 if tenant == "big" else 2, 1)}
        if tenant == "tiny":
            values["entry"] = _log_cursor_id(scale.path)
        url = f"/admin/tenants/{tenant}" + PAGES[name].format(**values)
        page, statements = await scale.measure(url)
        assert "Not found" not in page.text
        counts[tenant] = len(statements)
        assert len(statements) <= MAX_STATEMENTS, (name, tenant, [s for s, _ in statements])
        _check_plans(f"{name} ({tenant})", statements, scale.plans(statements))
    assert counts["big"] == counts["tiny"], (name, counts)


def _log_cursor_id(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("SELECT min(id) FROM sync_log WHERE tenant_id = 2").fetchone()[0])
    finally:
        db.close()


async def test_pages_show_what_they_found_at_scale(scale: Scale) -> None:
    users, _ = await scale.measure("/admin/tenants/big/users")
    assert "more than 2,000 users" in users.text
    assert users.text.count('<tr>\n    <td data-label="Login"><a href="/admin/tenants/big/users/') == 50
    found, _ = await scale.measure("/admin/tenants/big/users?q=big000099")
    assert "1 user<" in found.text or "big000099@example.com" in found.text
    log, _ = await scale.measure("/admin/tenants/big/log?status=failure")
    assert log.text.count("badge-failure") == 50
    deep, _ = await scale.measure("/admin/tenants/big/log?after=" + _log_cursor(scale.path, 1, 1))
    assert "2026-01-01 00:00:00" in deep.text  # the oldest entry, after the second oldest


async def test_the_third_page_of_a_group_of_10000_members_runs_few_indexed_statements(scale: Scale) -> None:
    first, _ = await scale.measure("/admin/tenants/big/groups/g000")
    assert 'id="member-count">10,000<' in first.text
    second, _ = await scale.measure(_next(first))
    third, statements = await scale.measure(_next(second))
    shown = re.findall(r'/users/(big-\d+)">', third.text)
    assert shown == [f"big-{i:06d}" for i in range(100, 150)]
    assert len(statements) <= MAX_STATEMENTS
    _check_plans("group page 3", statements, scale.plans(statements))
    _tiny, tiny_statements = await scale.measure("/admin/tenants/tiny/groups/tiny-g")
    assert len(tiny_statements) == len(statements)


@pytest.mark.parametrize(
    "query",
    [
        synclog.LogQuery(),
        synclog.LogQuery(since=datetime(2026, 1, 1, tzinfo=UTC)),
        synclog.LogQuery(resource_type="User"),
        "deep",
    ],
    ids=["first", "since", "resource-type", "deep"],
)
async def test_the_cli_and_api_log_read_walks_the_time_index_without_sorting(
    scale: Scale, query: Any
) -> None:
    """`enlist lms log` and GET /api/v1/tenants/{t}/sync-log read pages with synclog.read."""
    if query == "deep":
        query = synclog.LogQuery(before_id=int(_log_cursor_id(scale.path)) + 500_000)
    db = Database(f"sqlite+aiosqlite:///{scale.path}")
    scale.recorder.statements = []
    scale.recorder.on = True
    try:
        async with db.read() as conn:
            entries = await synclog.read(conn, 1, query)
    finally:
        scale.recorder.on = False
        await db.dispose()
    assert len(entries) == 100
    assert [(e["at"], e["id"]) for e in entries] == sorted(
        ((e["at"], e["id"]) for e in entries), reverse=True
    )
    statements = list(scale.recorder.statements)
    assert len(statements) <= 2  # the anchor of a deep page, then the page
    _check_plans(f"synclog.read {query}", statements, scale.plans(statements))
