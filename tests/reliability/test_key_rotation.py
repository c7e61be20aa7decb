"""docs/how-to/rotate-pepper-and-encryption-key.md, step by step, with the real command line and
real portal processes: the pepper and the encryption key are replaced while the old tokens keep
working, nothing is ever refused in between, and the old pepper and key can then be dropped.

Each numbered block below is the how-to's step of the same number.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import httpx2
import pytest
from cryptography.fernet import Fernet

from tests.live import ENLIST
from tests.reliability.rig import Server

OLD_PEPPER, NEW_PEPPER = "old-pepper-" + "a" * 40, "new-pepper-" + "b" * 40


def answers(server: Server, tenant_url: str, token: str) -> int:
    """The status `GET /Users?count=0` gets from `server` with `token`."""
    path = tenant_url.split("/scim/v2/", 1)[1]
    return httpx2.get(
        f"{server.url}/scim/v2/{path}/Users",
        params={"count": 0},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).status_code


def portal(tmp_path: Path, database: Path, current: str, previous: str = "") -> Server:
    server = Server(tmp_path / f"portal-{secrets.token_hex(3)}", f"sqlite:///{database}")
    server.extra_env.update(ENLIST_TOKEN_PEPPER=current, ENLIST_PREVIOUS_TOKEN_PEPPERS=previous)
    return server


@pytest.mark.slow
def test_rotating_the_pepper_keeps_old_tokens_working_until_they_are_replaced(tmp_path: Path) -> None:
    database = tmp_path / "lms.sqlite3"
    old = portal(tmp_path, database, OLD_PEPPER).start()
    new = portal(tmp_path, database, NEW_PEPPER, OLD_PEPPER)
    last = portal(tmp_path, database, NEW_PEPPER)
    try:
        tenant_url, old_token = old.tenant("Woodgrove")
        assert answers(old, tenant_url, old_token) == 200

        # 1. New processes with the new pepper and the old one as previous, next to the old ones;
        #    then the old processes stop. Both generations accept the old token meanwhile.
        new.start()
        assert answers(new, tenant_url, old_token) == 200
        assert answers(old, tenant_url, old_token) == 200
        old.stop()

        # 2. Rotate every tenant's token under the new settings; the old token has its overlap.
        rotated = json.loads(new.cli("lms", "tenant", "rotate-token", "Woodgrove", "--json"))
        new_token = rotated["secret_token"]
        assert answers(new, tenant_url, old_token) == 200, "the old token works during the overlap"
        assert answers(new, tenant_url, new_token) == 200

        # 3. The old token ends with its overlap window; the new one does not end.
        shown = json.loads(new.cli("lms", "tenant", "show", "Woodgrove", "--json"))
        ends = {t["key_id"]: t["expires_at"] for t in shown["tokens"]}
        assert ends[old_token[4:16]] is not None
        assert ends[new_token[4:16]] is None

        # 4. Restart without the previous pepper: the new token works, an old-pepper one never.
        last.start()
        new.stop()
        assert answers(last, tenant_url, new_token) == 200
        assert answers(last, tenant_url, old_token) == 401
    finally:
        for server in (old, new, last):
            server.stop()


class ProvisioningCli:
    """`enlist provisioning …` on one data directory, with the keys an operator would export."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def run(
        self, key: str, previous: str, *args: str, ok: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = Server(self.data_dir, None).env()
        env.update(
            ENLIST_DATA_DIR=str(self.data_dir), ENLIST_SECRET_KEY=key, ENLIST_PREVIOUS_SECRET_KEYS=previous
        )
        env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
        done = subprocess.run(
            [ENLIST, "provisioning", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done


@pytest.mark.slow
def test_rotating_the_encryption_key_re_seals_target_tokens_then_drops_the_old_key(tmp_path: Path) -> None:
    target = Server(tmp_path / "target", None).start()
    cli = ProvisioningCli(tmp_path / "provisioning")
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        tenant_url, token = target.tenant("Fabrikam")
        for app in ("Portal A", "Portal B"):
            cli.run(old_key, "", "app", "create", app, "--tenant-url", tenant_url, "--secret-token", token)

        # 1. Every provisioning process gets the new key, the old one as previous: nothing breaks.
        for app in ("Portal A", "Portal B"):
            cli.run(new_key, old_key, "app", "test-connection", app)

        # 2. Re-seal each application under the new key (the token on stdin, as the how-to says).
        cli.run(
            new_key,
            old_key,
            "app",
            "connect",
            "Portal A",
            "--tenant-url",
            tenant_url,
            "--secret-token",
            "-",
            stdin=token,
        )

        # 3. Check with the new key alone: one not re-sealed says so (the re-sealed one opens: 4.).
        refused = cli.run(new_key, "", "app", "test-connection", "Portal B", ok=False)
        assert refused.returncode == 1
        assert "cannot be decrypted with the configured keys" in refused.stderr, refused.stderr
        assert token not in refused.stdout + refused.stderr, "the token is never printed"
        cli.run(
            new_key,
            old_key,
            "app",
            "connect",
            "Portal B",
            "--tenant-url",
            tenant_url,
            "--secret-token",
            token,
        )

        # 4. Drop the old key: every application still connects.
        for app in ("Portal A", "Portal B"):
            cli.run(new_key, "", "app", "test-connection", app)
        stored = (cli.data_dir / "provisioning.sqlite3").read_bytes()
        assert token.encode() not in stored
    finally:
        target.stop()
