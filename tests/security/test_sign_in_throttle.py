"""The admin sign-in throttle of both sites, against `enlist … serve` on loopback.

Forwarded headers are believed only from `ENLIST_TRUSTED_PROXIES` (none by default), so a client
cannot spread its guesses over made-up addresses; and behind a trusted proxy, an attacker who
fails and fails cannot lock the real admin, signing in from elsewhere, out.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.browser.servers import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin
from tests.live import ENLIST, LivePortal, free_port, serve

SPOOFED = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]


def start(service: str, data_dir: Path, extra: dict[str, str]) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**LivePortal(data_dir, None).env(), **extra}
    env["ENLIST_LMS_PUBLIC_URL" if service == "lms" else "ENLIST_PROVISIONING_PUBLIC_URL"] = url
    env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
    create_admin(env, service)
    command = [ENLIST, service, "serve", "--port", str(port)]
    if service == "provisioning":
        command.append("--no-scheduler")
    return url, serve(command, env, data_dir, url)


@pytest.fixture(scope="module", params=["lms", "provisioning"])
def direct(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site with the default settings: no trusted proxy."""
    url, process = start(request.param, tmp_path_factory.mktemp(request.param), {})
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module", params=["lms", "provisioning"])
def proxied(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site behind a reverse proxy on loopback, trusted through ENLIST_TRUSTED_PROXIES."""
    extra = {"ENLIST_TRUSTED_PROXIES": "127.0.0.1"}
    url, process = start(request.param, tmp_path_factory.mktemp(request.param), extra)
    yield url
    process.terminate()
    process.wait(timeout=30)


def sign_in(url: str, password: str, forwarded_for: str) -> int:
    """One sign-in through the form, as a browser at `forwarded_for` (per a proxy) makes it."""
    headers = {"X-Forwarded-For": forwarded_for}
    with httpx2.Client(base_url=url, timeout=30, headers=headers) as browser:
        form = browser.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        data = {"email": ADMIN_EMAIL, "password": password, "csrf_token": token.group(1)}
        return browser.post("/admin/login", data=data).status_code


def test_30_wrong_passwords_from_3_spoofed_addresses_are_throttled_as_one_client(direct: str) -> None:
    statuses = [sign_in(direct, "wrong wrong wrong", SPOOFED[n % 3]) for n in range(30)]
    assert statuses == [401] * 5 + [429] * 25


def test_an_attacker_behind_the_proxy_cannot_lock_the_admin_out(proxied: str) -> None:
    statuses = [sign_in(proxied, "wrong wrong wrong", SPOOFED[n % 3]) for n in range(30)]
    assert statuses == [401] * 15 + [429] * 15  # five failures each, then each is refused
    assert sign_in(proxied, ADMIN_PASSWORD, "198.51.100.7") == 303  # the admin, from their own address
    assert sign_in(proxied, ADMIN_PASSWORD, SPOOFED[0]) == 429  # the attacker's address learns nothing
