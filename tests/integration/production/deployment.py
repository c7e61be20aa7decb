"""A deployment as an operator runs one: both services as real `enlist … serve` processes (one
or several workers, each in a process group of its own), the CLI for everything else, and the
databases the test names (a SQLite file or a PostgreSQL database of the test cluster).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from cryptography.fernet import Fernet

from tests.live import ENLIST, free_port

PEPPER = "production-test-pepper"


@dataclass
class Deployment:
    """One installation: a data directory, the two database URLs, the secrets kept outside
    them (the token pepper and the secret key, as `EnvironmentFile=` gives them), the ports."""

    data_dir: Path
    lms_database_url: str
    provisioning_database_url: str
    secret_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    lms_port: int = field(default_factory=free_port)
    provisioning_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    secrets_in_env: bool = True
    """False: no ENLIST_TOKEN_PEPPER or ENLIST_SECRET_KEY; the services generate them as files
    in the data directory (what a backup must then copy)."""

    @property
    def lms_url(self) -> str:
        return f"http://127.0.0.1:{self.lms_port}"

    @property
    def provisioning_url(self) -> str:
        return f"http://127.0.0.1:{self.provisioning_port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # child processes keep their bytecode: faster starts
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
        env.update(
            ENLIST_DATA_DIR=str(self.data_dir),
            ENLIST_LMS_PUBLIC_URL=self.lms_url,
            ENLIST_LMS_DATABASE_URL=self.lms_database_url,
            ENLIST_PROVISIONING_DATABASE_URL=self.provisioning_database_url,
            ENLIST_LOG_FORMAT="json",
        )
        if self.secrets_in_env:
            env.update(ENLIST_TOKEN_PEPPER=PEPPER, ENLIST_SECRET_KEY=self.secret_key)
        else:
            env.pop("ENLIST_TOKEN_PEPPER", None)
            env.pop("ENLIST_SECRET_KEY", None)
        env.update(self.extra_env)
        return env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [ENLIST, *args], env=self.env(), capture_output=True, text=True, check=False, timeout=180
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    def serve(self, service: str, *options: str) -> Process:
        """`enlist SERVICE serve` on this deployment's port for it, started and healthy."""
        port = self.lms_port if service == "lms" else self.provisioning_port
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.data_dir / f"{service}-{port}.log"
        command = [ENLIST, service, "serve", "--port", str(port), *options]
        return Process(command, self.env(), log, f"http://127.0.0.1:{port}").start()


@dataclass
class Process:
    """A server process in its own process group (its workers too)."""

    command: list[str]
    env: dict[str, str]
    log: Path
    url: str
    popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 120  # a loaded 2-core machine can take a while
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                break
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.command[1:3]} did not start: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        """SIGTERM to the group (as systemd stops a unit), SIGKILL if it does not end."""
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=15)

    def workers(self) -> list[int]:
        """The pids of the supervisor's worker processes (not multiprocessing's resource tracker)."""
        return [pid for pid in children(self.pid) if b"multiprocessing.resource_tracker" not in cmdline(pid)]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
