"""Both services as real processes writing JSON logs to files, driven through a whole flow.

`Flow` starts `enlist lms serve` and `enlist provisioning serve` (`--log-format json`, stderr to
a file each) over the databases the test gives, and runs the CLI against them as an admin would.
The secrets and marker values it uses are collected in `secrets` and `markers`, for the test to
look for in every log line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from cryptography.fernet import Fernet

from tests.live import free_port

ENLIST = str(Path(sys.executable).with_name("enlist"))


@dataclass
class Flow:
    data_dir: Path
    lms_database_url: str
    provisioning_database_url: str
    lms_port: int = field(default_factory=free_port)
    provisioning_port: int = field(default_factory=free_port)
    pepper: str = "pepper-marker-2f9c1e7a5b"
    secret_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def lms_url(self) -> str:
        return f"http://127.0.0.1:{self.lms_port}"

    @property
    def provisioning_url(self) -> str:
        return f"http://127.0.0.1:{self.provisioning_port}"

    @property
    def lms_log(self) -> Path:
        return self.data_dir / "lms.log"

    @property
    def provisioning_log(self) -> Path:
        return self.data_dir / "provisioning.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
        env.update(
            ENLIST_DATA_DIR=str(self.data_dir),
            ENLIST_LMS_PUBLIC_URL=self.lms_url,
            ENLIST_PROVISIONING_PUBLIC_URL=self.provisioning_url,
            ENLIST_LMS_DATABASE_URL=self.lms_database_url,
            ENLIST_PROVISIONING_DATABASE_URL=self.provisioning_database_url,
            ENLIST_TOKEN_PEPPER=self.pepper,
            ENLIST_SECRET_KEY=self.secret_key,
            ENLIST_SCHEDULER_POLL_SECONDS="0.5",
        )
        env.pop("ENLIST_LOG_FORMAT", None)
        return env

    def cli(self, *args: str, stdin: str | None = None, ok: bool = True) -> str:
        done = subprocess.run(
            [ENLIST, *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done.stdout

    def cli_json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.cli(*args, stdin=stdin))

    def start(self, service: str, port: int, log: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [ENLIST, service, "serve", "--port", str(port), "--log-format", "json"]
        with log.open("wb") as err:
            process = subprocess.Popen(command, env=self.env(), stdout=subprocess.DEVNULL, stderr=err)
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(url), f"{service} serve did not start: {log.read_text()}")

    def start_both(self) -> None:
        self.start("lms", self.lms_port, self.lms_log)
        self.start("provisioning", self.provisioning_port, self.provisioning_log)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log_lines(self) -> list[str]:
        return [
            line
            for path in (self.lms_log, self.provisioning_log)
            for line in path.read_text(encoding="utf-8").splitlines()
        ]


def _answers(url: str) -> bool:
    try:
        return httpx2.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx2.TransportError:
        return False


def wait_for(ready: Callable[[], bool], failure: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError(failure)
