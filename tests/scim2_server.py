"""scim2-server (the python-scim reference server, a dev dependency) as a real process on loopback,
for suites that provision into a SCIM service we did not write (e2e, contract).

`running_scim2_server` starts it on a free port with a bearer token, waits until
`GET /ServiceProviderConfig` answers, and stops it on exit; its Tenant URL is
`http://127.0.0.1:PORT/v2`. The server keeps everything in memory: each start is empty.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from tests.e2e.scenario_helpers import TargetState, read_target
from tests.live import free_port

SCIM2_SERVER = str(Path(sys.executable).with_name("scim2-server"))
TOKEN = "scim2-server-test-token"


@dataclass
class Scim2Server:
    url: str  # the Tenant URL
    token: str
    process: subprocess.Popen[bytes]

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    async def state(self) -> TargetState:
        async with self.client() as http:
            return await read_target(http, self.url)


@contextmanager
def running_scim2_server(log_dir: Path) -> Iterator[Scim2Server]:
    """A fresh scim2-server, its output in `log_dir/scim2-server.log`."""
    port = free_port()
    log_path = log_dir / "scim2-server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [SCIM2_SERVER, "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", TOKEN],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Scim2Server(f"http://127.0.0.1:{port}/v2", TOKEN, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx2.get(
                    f"{server.url}/ServiceProviderConfig",
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=1,
                )
                if answer.status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scim2-server did not start: {log_path.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
