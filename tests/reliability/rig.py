"""What the reliability suites share: the portal as a real server process (one or several
workers, killable with SIGKILL), a fast SCIM client on raw HTTP (aiohttp), and a direct view of
the portal's database to check what was committed.

The server runs in a process group of its own, so a SIGKILL reaches uvicorn's parent and every
worker at once, as a crash of the host or an OOM kill of the service would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.lms.store.tables import group_members, sync_log, users
from tests.live import ENLIST, LivePortal

SCIM_JSON = "application/scim+json"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
RETRYABLE = {409, 429, 503}  # what a SCIM client (Entra) retries; 409 only for a write race
MAX_RETRIES = 20


@dataclass
class Server(LivePortal):
    """`enlist lms serve` with `--workers`, in its own process group."""

    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra_env}

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "serve.log").open("ab") as log:
            self.process = subprocess.Popen(
                [ENLIST, "lms", "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if _healthy(self.port):
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the portal did not start: {self.log()}")

    def log(self) -> str:
        return (self.data_dir / "serve.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown, no rollback, no flush."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def _healthy(port: int) -> bool:
    import http.client  # noqa: PLC0415

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@dataclass
class Outcomes:
    """Every answer a client got, by status, and every request that got no answer."""

    statuses: Counter[int] = field(default_factory=Counter)
    no_answer: int = 0
    retries: int = 0
    retry_after_missing: list[int] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.no_answer


class Scim:
    """A SCIM client on one tenant over aiohttp, counting outcomes. `retry=True` retries 409,
    429 and 503 as Entra would (after `Retry-After` when given); 5xx other than 503 never."""

    def __init__(self, tenant_url: str, token: str, connections: int = 30) -> None:
        self.tenant_url = tenant_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}
        self.connections = connections
        self.outcomes = Outcomes()
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Scim:  # noqa: PYI034 (Python 3.11: no typing.Self in use here)
        connector = aiohttp.TCPConnector(limit=self.connections, force_close=False)
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=60), headers=self.headers
        )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.session is not None
        await self.session.close()

    async def once(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any, dict]:
        """One request; (status, JSON body or None, headers). Counts the outcome."""
        assert self.session is not None
        async with self.session.request(
            method, f"{self.tenant_url}{path}", json=body, params=params or None
        ) as answer:
            text = await answer.read()
            status = answer.status
            headers = dict(answer.headers)
        self.outcomes.statuses[status] += 1
        if status >= 500 and status != 503:
            self.outcomes.server_errors.append(f"{method} {path} -> {status} {text[:300]!r}")
        if status in (429, 503) and "Retry-After" not in headers:
            self.outcomes.retry_after_missing.append(status)
        parsed = None
        if text:
            try:
                import orjson  # noqa: PLC0415

                parsed = orjson.loads(text)
            except ValueError:
                parsed = text
        return status, parsed, headers

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        """A request, retried on 409/429/503 like Entra would; returns the last answer."""
        for _ in range(MAX_RETRIES):
            status, parsed, headers = await self.once(method, path, body, **params)
            if status not in RETRYABLE:
                return status, parsed
            self.outcomes.retries += 1
            wait = headers.get("Retry-After", "0")
            await asyncio.sleep(min(float(wait) if wait.replace(".", "", 1).isdigit() else 0.0, 1.0) + 0.01)
        return status, parsed

    async def everything(self, endpoint: str) -> list[dict[str, Any]]:
        """Every resource of `/Users` or `/Groups`, page by page."""
        found: list[dict[str, Any]] = []
        while True:
            status, page = await self.call("GET", endpoint, startIndex=len(found) + 1, count=500)
            assert status == 200, page
            resources = page.get("Resources", [])
            found += resources
            if not resources or len(found) >= page["totalResults"]:
                return found


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "active": True,
        "name": {"givenName": user_name.split("@", maxsplit=1)[0], "familyName": "Test"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        **extra,
    }


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def add_member(user_id: str) -> dict[str, Any]:
    return patch({"op": "add", "path": "members", "value": [{"value": user_id}]})


def remove_member(user_id: str) -> dict[str, Any]:
    return patch({"op": "remove", "path": f'members[value eq "{user_id}"]'})


@dataclass(frozen=True)
class Committed:
    """The portal's committed state, read from its database: users, memberships, sync log."""

    user_names: dict[str, str]  # id -> userName
    members: dict[str, set[str]]  # group id -> user ids
    log: list[dict[str, Any]]  # successful writes in commit order


async def committed(database_url: str) -> Committed:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            names = dict((await conn.execute(sa.select(users.c.id, users.c.user_name))).all())
            members: dict[str, set[str]] = {}
            for group_id, user_id in (
                await conn.execute(sa.select(group_members.c.group_id, group_members.c.user_id))
            ).all():
                members.setdefault(group_id, set()).add(user_id)
            log = [
                dict(r._mapping)
                for r in (
                    await conn.execute(
                        sa.select(sync_log).where(sync_log.c.status < 300).order_by(sync_log.c.id)
                    )
                ).all()
            ]
    finally:
        await db.dispose()
    return Committed(names, members, log)


def replayed_members(log: list[dict[str, Any]], group_id: str) -> set[str]:
    """A group's members as its sync log entries tell them: every join minus every leave, in
    commit order. Equal to the membership rows exactly when no write was half-committed."""
    members: set[str] = set()
    for entry in log:
        if entry["resource_type"] != "Group" or entry["resource_id"] != group_id:
            continue
        for change in entry["changes"]:
            if change["attribute"] == "members":
                members -= set(change["old"] or [])
                members |= set(change["new"] or [])
    return members
