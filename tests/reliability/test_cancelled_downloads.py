"""A download the client cancels stops at once, quietly, on both services (real servers on loopback).

Each test fills a log with more records than any socket buffer holds, reads the first MiB of
its export at full speed, closes the connection, and then reads the server's output: one line saying the
download stopped and after how many records, no `socket.send() raised exception`, and the
number of records pulled from the database bounded by what the buffers can hold.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from enlist.lms.store.tables import sync_log
from enlist.provisioning.store.tables import provisioning_log
from enlist.settings import load_settings
from tests.browser.servers import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin
from tests.databases import PostgresCluster
from tests.live import ENLIST, LivePortal, free_port, serve

RECORDS = 60_000
# Read at full speed, as a browser does, then close: the server is mid-write, not held back by
# a full socket buffer, when the connection goes (a reader held back never showed the flood).
READ_BEFORE_CLOSING = 1024 * 1024
STOPPED = re.compile(r"stopped after (\d+) records: the client went away")


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    headers: dict[str, str]
    path: str


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ENLIST, *args], env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def fill(url: str, table: sa.Table, row: dict[str, object]) -> None:
    """RECORDS copies of `row`, a second apart, written straight into the service's database."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [{**row, "at": start + timedelta(seconds=n)} for n in range(RECORDS)]

    async def write() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(table.insert(), rows)
        await engine.dispose()

    asyncio.run(write())


def command(service: str, port: int, loop: str) -> list[str]:
    """`enlist … serve` (uvloop), or the service served as `enlist demo` serves it (asyncio's loop)."""
    if loop == "uvloop":
        return [ENLIST, service, "serve", "--port", str(port)] + (
            ["--no-scheduler"] if service != "lms" else []
        )
    return [sys.executable, "-m", "tests.reliability.demo_loop_server", service, str(port)]


def portal(data_dir: Path, loop: str, database_url: str | None) -> Server:
    port = free_port()
    env = {**LivePortal(data_dir, database_url).env(), "ENLIST_LMS_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    token = json.loads(run(env, "lms", "tenant", "create", "acme", "--json"))["secret_token"]
    entry = {
        "tenant_id": 1,
        "method": "PATCH",
        "path": "/scim/v2/acme/Users/1",
        "status": 200,
        "action": "update",
        "resource_type": "User",
        "resource_id": "1",
        "resource_name": "ada@example.com",
        "changes": [{"attribute": "title", "old": "Engineer", "new": "Principal engineer"}],
        "duration_ms": 1.5,
    }
    fill(load_settings(data_dir=data_dir, lms_database_url=database_url).lms_url(), sync_log, entry)
    url = f"http://127.0.0.1:{port}"
    process = serve(command("lms", port, loop), env, data_dir, url)
    headers = {"Authorization": f"Bearer {token}"}
    return Server(
        url, port, process, data_dir / "serve.log", headers, "/api/v1/tenants/acme/sync-log?format=csv"
    )


def provisioning(data_dir: Path, loop: str, database_url: str | None) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**LivePortal(data_dir, None).env(), "ENLIST_PROVISIONING_PUBLIC_URL": url}
    env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
    if database_url:
        env["ENLIST_PROVISIONING_DATABASE_URL"] = database_url
    run(env, "provisioning", "app", "create", "Learn")
    create_admin(env, "provisioning")
    record = {
        "app_id": 1,
        "cycle_id": "c" * 36,
        "change_id": "d" * 36,
        "action": "update",
        "status": "success",
        "object_kind": "user",
        "source_id": "u1",
        "source_name": "ada@example.com",
        "target_id": "1",
        "steps": [{"step": "export", "status": "success"}],
        "modified": [{"attribute": "title", "old": "Engineer", "new": "Principal engineer"}],
        "duration_ms": 1.5,
    }
    settings = load_settings(data_dir=data_dir, provisioning_database_url=database_url)
    fill(settings.provisioning_url(), provisioning_log, record)
    process = serve(
        [ENLIST, "provisioning", "serve", "--port", str(port), "--no-scheduler"], env, data_dir, url
    )
    with httpx2.Client(base_url=url, timeout=30) as browser:
        form = browser.get("/admin/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf
        data = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": csrf.group(1)}
        assert browser.post("/admin/login", data=data).status_code == 303
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return Server(
        url,
        port,
        process,
        data_dir / "serve.log",
        {"Cookie": cookie},
        "/admin/apps/Learn/logs/download?format=json",
    )


@pytest.fixture(
    params=[
        pytest.param(("lms", "uvloop", "sqlite"), id="lms-uvloop-sqlite"),
        pytest.param(("lms", "asyncio", "sqlite"), id="lms-asyncio-sqlite"),
        pytest.param(("provisioning", "uvloop", "sqlite"), id="provisioning-uvloop-sqlite"),
        pytest.param(("provisioning", "asyncio", "sqlite"), id="provisioning-asyncio-sqlite"),
        pytest.param(("lms", "asyncio", "postgres"), id="lms-asyncio-postgres", marks=pytest.mark.postgres),
        pytest.param(
            ("provisioning", "asyncio", "postgres"),
            id="provisioning-asyncio-postgres",
            marks=pytest.mark.postgres,
        ),
    ]
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    service, loop, database = request.param
    url = None
    if database == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = asyncio.run(cluster.create(f"download_{service}_{free_port()}"))
    start = portal if service == "lms" else provisioning
    started = start(tmp_path, loop, url)
    yield started
    started.process.terminate()
    started.process.wait(timeout=30)


def test_a_cancelled_download_stops_with_one_line_and_no_send_errors(server: Server) -> None:
    with socket.socket() as client:
        client.connect(("127.0.0.1", server.port))
        head = "".join(f"{name}: {value}\r\n" for name, value in server.headers.items())
        client.sendall(f"GET {server.path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode())
        received = b""
        while len(received) < READ_BEFORE_CLOSING:
            chunk = client.recv(65536)
            assert chunk, received[:300]
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 ")
    stopped: list[str] = []
    for _ in range(100):  # the server notices within a few turns of its loop
        stopped = [line for line in server.log.read_text().splitlines() if STOPPED.search(line)]
        if stopped:
            break
        time.sleep(0.1)
    output = server.log.read_text()
    assert len(stopped) == 1, output[-2000:]
    assert "socket.send() raised exception" not in output
    assert "Traceback" not in output
    pulled = int(STOPPED.findall(stopped[0])[0])
    assert pulled < RECORDS // 4, f"{pulled} of {RECORDS} records pulled after the client left"
    assert httpx2.get(server.url + "/healthz", timeout=10).status_code == 200
