"""The demo `make run` creates (`enlist demo`), run as a process for the browser tests of the
provisioning pages: 300 people, 10 groups assigned, an initial cycle with created and skipped
records, plus a drop-folder source that has been read once, so every page has rows to lay out."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from tests.live import ENLIST, LivePortal, free_port

CONTRACTORS = {
    "users": [
        {
            "userPrincipalName": f"contractor{i}@contoso.example",
            "displayName": f"Contractor {i}",
            "department": "Research and Development Engineering Operations",
        }
        for i in range(1, 4)
    ],
    "groups": [
        {"displayName": "Contractors", "members": [f"contractor{i}@contoso.example" for i in range(1, 4)]}
    ],
}
SOURCE = "HR drop folder"


@dataclass
class DemoSite:
    info: dict[str, Any]
    env: dict[str, str]

    @property
    def url(self) -> str:
        return str(self.info["provisioning_url"])

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [ENLIST, *args], env=self.env, capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@dataclass
class SignedIn:
    """An httpx client signed in to the provisioning admin site (for finding ids to open)."""

    client: httpx2.Client

    def links(self, path: str, pattern: str) -> list[str]:
        html = self.client.get(path).text
        return sorted(set(re.findall(pattern, html)))


def run_demo(data_dir: Path) -> Iterator[DemoSite]:
    """`enlist demo --json` on free ports; yields once its initial cycle is done and a source was read."""
    env = LivePortal(data_dir, None).env()
    env.pop("ENLIST_LMS_PUBLIC_URL")
    demo = subprocess.Popen(
        [ENLIST, "demo", "--json", "--lms-port", str(free_port()), "--provisioning-port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        line = demo.stdout.readline()
        assert line, demo.stderr.read() if demo.stderr else ""
        site = DemoSite(json.loads(line), env)
        drop = data_dir / "hr-drop"
        drop.mkdir()
        (drop / "contractors.json").write_text(json.dumps(CONTRACTORS), encoding="utf-8")
        site.cli("provisioning", "source", "add", SOURCE, "--kind", "file", "--path", str(drop))
        site.cli("provisioning", "source", "sync", SOURCE)
        yield site
    finally:
        demo.terminate()
        demo.communicate(timeout=30)


def sign_in_client(site: DemoSite) -> SignedIn:
    client = httpx2.Client(base_url=site.url, timeout=30, follow_redirects=False)
    form = client.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    done = client.post(
        "/admin/login",
        data={
            "email": site.info["admin_email"],
            "password": site.info["admin_password"],
            "csrf_token": token.group(1),
        },
    )
    assert done.status_code == 303, done.text
    return SignedIn(client)
