"""Both services as real processes on loopback, each with an admin, for the browser tests."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.live import ENLIST, LivePortal, free_port, serve

ADMIN_EMAIL = "admin@contoso.example"
ADMIN_PASSWORD = "a long browser-test password"


def create_admin(env: dict[str, str], service: str) -> None:
    """`enlist <service> admin create`, with the password on standard input, as the docs say."""
    done = subprocess.run(
        [ENLIST, service, "admin", "create", ADMIN_EMAIL],
        input=ADMIN_PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@dataclass
class LiveProvisioning:
    """`enlist provisioning serve` with its scheduler polling every second."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = LivePortal(self.data_dir, None).env()
        env["ENLIST_PROVISIONING_PUBLIC_URL"] = self.url
        env["ENLIST_SCHEDULER_POLL_SECONDS"] = "1"
        env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
        return env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [ENLIST, *args], env=self.env(), capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> LiveProvisioning:
        command = [ENLIST, "provisioning", "serve", "--port", str(self.port)]
        self.process = serve(command, self.env(), self.data_dir, self.url)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def import_directory(self, document: dict[str, object]) -> None:
        path = self.data_dir / "directory.json"
        path.write_text(json.dumps(document))
        self.cli("provisioning", "directory", "import", str(path))
