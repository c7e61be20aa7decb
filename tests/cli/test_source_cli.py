"""`enlist provisioning source …`: every command with its `--json` keys, bad input refused with
exit 1 and a message, and a secret in no output. In-process (click's runner) on a data
directory of the test's own (SQLite)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from enlist.cli import main

SYNC_KEYS = {
    "source",
    "kind",
    "users_created",
    "users_updated",
    "users_deleted",
    "groups_created",
    "groups_updated",
    "groups_deleted",
    "memberships_added",
    "memberships_removed",
    "duration_s",
}
FILE_KEYS = {"imported_file"}
DESCRIBED_KEYS = {"next_read"}  # `show` and `list` also carry the next read, by the scheduler's rule
LAST_READ_KEYS = {
    "started_at",
    "finished_at",
    "status",
    "counts",
    "error",
    "id",
    "trigger",
    "requested",
    "kind",
    "records",
    "duration_s",
    "conflicts",
    "warnings",
}
SHOW_KEYS = {
    "name",
    "kind",
    "state",
    "interval_minutes",
    "settings",
    "has_secrets",
    "has_cursor",
    "next_read_at",
    "last_read",
}
SECRET = "very-secret-value-42"


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.env = {"ENLIST_DATA_DIR": str(data_dir), "ENLIST_PROVISIONING_DATABASE_URL": ""}
        self.runner = CliRunner()

    def run(self, *args: str, stdin: str | None = None) -> Any:
        result = self.runner.invoke(main, ["provisioning", "source", *args], env=self.env, input=stdin)
        assert SECRET not in result.output
        return result

    def json(self, *args: str, stdin: str | None = None) -> Any:
        result = self.run(*args, "--json", stdin=stdin)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


def test_every_source_command_answers_with_its_json_keys(cli: Cli, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "hr.json").write_text(
        json.dumps(
            {
                "users": [{"userPrincipalName": "a@contoso.com"}],
                "groups": [{"displayName": "G", "members": ["a@contoso.com"]}],
            }
        ),
        encoding="utf-8",
    )
    assert set(cli.json("add", "hr", "--kind", "file", "--path", str(drop))) == SHOW_KEYS | FILE_KEYS
    graph = cli.json(
        "add",
        "entra",
        "--kind",
        "graph",
        "--tenant-id",
        "T",
        "--client-id",
        "C",
        "--client-secret",
        "-",
        stdin=SECRET + "\n",
    )
    assert graph["settings"] == {
        "tenant_id": "T",
        "client_id": "C",
        "graph_url": "https://graph.microsoft.com",
        "login_url": "https://login.microsoftonline.com",
    }
    assert graph["has_secrets"] is True
    assert [s["name"] for s in cli.json("list")] == ["entra", "hr"]
    assert set(cli.json("show", "hr")) == SHOW_KEYS | FILE_KEYS | DESCRIBED_KEYS
    assert set(cli.json("show", "entra")) == SHOW_KEYS | DESCRIBED_KEYS
    assert set(cli.json("show", "hr")["last_read"]) == LAST_READ_KEYS
    assert cli.json("test", "hr")["ok"] is True
    synced = cli.json("sync", "hr")
    assert set(synced) >= SYNC_KEYS
    assert (
        synced["kind"],
        synced["users_created"],
        synced["groups_created"],
        synced["memberships_added"],
    ) == ("full", 1, 1, 1)
    shown = cli.json("show", "hr")
    assert shown["imported_file"] == "hr.json"
    assert shown["next_read"]["state"] == "scheduled"
    assert (shown["last_read"]["status"], shown["last_read"]["kind"], shown["last_read"]["trigger"]) == (
        "ok",
        "full",
        "admin",
    )
    assert shown["last_read"]["records"] == 2
    assert cli.json("sync", "hr")["kind"] == "delta"  # the same file again: nothing to do
    assert cli.json("sync", "hr", "--full")["users_updated"] == 0
    assert cli.json("set", "hr", "interval_minutes=10")["interval_minutes"] == 10
    assert cli.json("set", "entra", "client_secret=-", stdin=SECRET + "\n")["has_secrets"] is True
    assert cli.json("pause", "hr") == {"source": "hr", "state": "paused"}
    assert cli.json("show", "hr")["next_read"] == {"state": "paused", "at": None}
    assert cli.json("resume", "hr") == {"source": "hr", "state": "active"}
    assert cli.json("remove", "hr") == {"source": "hr", "removed": True, "objects_kept": 2}


@pytest.mark.parametrize(
    "args",
    [
        ("show", "nobody"),
        ("add", "file", "--kind", "file", "--path", "/tmp"),  # the built-in owner's name
        ("add", "x", "--kind", "file"),  # no --path
        ("add", "x", "--kind", "graph", "--tenant-id", "T", "--client-id", "C"),  # no secret
        ("set", "nobody", "interval_minutes=5"),
        ("sync", "nobody"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_exit_1(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli.run(*args)
    assert result.exit_code == 1, result.output
    assert "error:" in result.stderr
    assert "Traceback" not in result.output


def test_directory_export_writes_what_directory_import_reads(cli: Cli, tmp_path: Path) -> None:
    document = {
        "users": [
            {"userPrincipalName": "boss@contoso.com", "jobTitle": "CEO"},
            {
                "userPrincipalName": "a@contoso.com",
                "manager": "boss@contoso.com",
                "businessPhones": ["1", "2"],
            },
        ],
        "groups": [{"displayName": "G", "members": ["a@contoso.com"]}],
    }
    given = tmp_path / "in.json"
    given.write_text(json.dumps(document), encoding="utf-8")
    runner, env = cli.runner, cli.env
    assert runner.invoke(main, ["provisioning", "directory", "import", str(given)], env=env).exit_code == 0
    for file_format in ("json", "csv"):
        out = tmp_path / f"out.{file_format}"
        done = runner.invoke(
            main, ["provisioning", "directory", "export", "--format", file_format, "-o", str(out)], env=env
        )
        assert done.exit_code == 0, done.output
        again = runner.invoke(
            main, ["provisioning", "directory", "import", str(out), "--replace", "--json"], env=env
        )
        counts = json.loads(again.stdout)
        assert counts["users_updated"] == counts["users_created"] == counts["users_soft_deleted"] == 0
        assert counts["memberships_added"] == counts["memberships_removed"] == 0
    shown = runner.invoke(main, ["provisioning", "directory", "export", "--format", "csv"], env=env).stdout
    assert (
        shown.splitlines()[0]
        == "id,userPrincipalName,mailNickname,jobTitle,accountEnabled,businessPhones,manager"
    )


def test_source_sync_on_a_terminal_shows_how_many_records_it_has_read(tmp_path: Path) -> None:
    import os  # noqa: PLC0415
    import pty  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    from tests.live import ENLIST  # noqa: PLC0415

    drop = tmp_path / "drop"
    drop.mkdir()
    users = [{"userPrincipalName": f"u{i}@contoso.com"} for i in range(1200)]
    (drop / "hr.json").write_text(json.dumps({"users": users}), encoding="utf-8")
    env = {**os.environ, "ENLIST_DATA_DIR": str(tmp_path / "data")}
    env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
    base = [ENLIST, "provisioning", "source"]
    subprocess.run(
        [*base, "add", "hr", "--kind", "file", "--path", str(drop)], env=env, check=True, capture_output=True
    )
    leader, follower = pty.openpty()
    done = subprocess.run(
        [*base, "sync", "hr"], env=env, stderr=follower, stdout=subprocess.PIPE, check=False
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0
    assert b"hr: 500 records read" in shown
    assert b"hr: 1,200 records read" in shown
    assert b"users created: 1200" in done.stdout


def test_a_group_name_two_sources_share_is_assigned_by_id(cli: Cli, tmp_path: Path) -> None:
    ids = {}
    for name in ("hr", "contractors"):
        drop = tmp_path / name
        drop.mkdir()
        ids[name] = str(uuid.uuid4())
        document = {"users": [], "groups": [{"id": ids[name], "displayName": "Sales"}]}
        (drop / "g.json").write_text(json.dumps(document), encoding="utf-8")
        cli.json("add", name, "--kind", "file", "--path", str(drop))
        cli.json("sync", name)
    runner, env = cli.runner, cli.env
    assert runner.invoke(main, ["provisioning", "app", "create", "Portal"], env=env).exit_code == 0
    by_name = runner.invoke(main, ["provisioning", "app", "assign", "Portal", "--group", "Sales"], env=env)
    assert by_name.exit_code == 1
    assert "2 groups are named 'Sales'" in by_name.stderr
    assert ids["hr"] in by_name.stderr
    by_id = runner.invoke(
        main, ["provisioning", "app", "assign", "Portal", "--group", ids["hr"], "--json"], env=env
    )
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(by_id.stdout)["groups"] == 1
