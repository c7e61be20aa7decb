"""The portal as a real process on loopback, for suites that talk HTTP to it (conformance, e2e).

`LivePortal.start` runs `enlist lms serve` on a free port with its own data directory and
database, waits for `GET /healthz`, and makes tenants through the real CLI. `portal_on_loopback`
serves a `Portal` the test already holds (its database, its tenants) over real HTTP, in the
test's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import uvicorn

from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal

ENLIST = str(Path(sys.executable).with_name("enlist"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(command: list[str], env: dict[str, str], data_dir: Path, url: str) -> subprocess.Popen[bytes]:
    """Start a server (`enlist … serve`) logging to data_dir/serve.log; return once GET /healthz answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90  # a loaded 2-core machine can take a while to start Python
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"{' '.join(command[1:3])} did not start: {log_path.read_text()}")


@dataclass
class LivePortal:
    data_dir: Path
    database_url: str | None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Let the child processes keep compiled bytecode (in a cache of their own): without it
        # every `enlist` start recompiles ~475 modules, seconds on a loaded 2-core machine.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
        env["ENLIST_DATA_DIR"] = str(self.data_dir)
        env["ENLIST_LMS_PUBLIC_URL"] = self.url
        env["ENLIST_TOKEN_PEPPER"] = "live-test-pepper"
        if self.database_url:
            env["ENLIST_LMS_DATABASE_URL"] = self.database_url
        else:
            env.pop("ENLIST_LMS_DATABASE_URL", None)
        return env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [ENLIST, *args], env=self.env(), capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> LivePortal:
        self.process = serve(
            [ENLIST, "lms", "serve", "--port", str(self.port)], self.env(), self.data_dir, self.url
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def tenant(self, name: str) -> tuple[str, str]:
        """(Tenant URL, Secret token) of a new tenant, made through the CLI as an admin would."""
        created = json.loads(self.cli("lms", "tenant", "create", name, "--json"))
        return created["tenant_url"], created["secret_token"]


@contextlib.asynccontextmanager
async def portal_on_loopback(portal: Portal) -> AsyncIterator[str]:
    """The portal served over real HTTP on a free loopback port, in this event loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(portal.settings, portal), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
