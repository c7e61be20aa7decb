"""`enlist provisioning …` as other tools use it: the commands and `--json` keys the contract
names (issue 3, "Command line"), bad input refused with exit code 1 and a message and no change,
and the Secret token in no output.

The commands run as real processes on a data directory of the module's own (SQLite there),
against a real portal (`enlist lms serve`); each test uses applications of its own.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from enlist.cli import main
from tests.counting_target import CountingScimTarget, counting_target
from tests.live import ENLIST, LivePortal

DOMAIN = "contoso.com"
DIRECTORY = {
    "users": [
        {"userPrincipalName": f"u{i}@{DOMAIN}", "mail": f"u{i}@{DOMAIN}", "givenName": f"Given{i}", "surname": f"Sur{i}",
         "displayName": f"Given{i} Sur{i}", "jobTitle": "Staff", "accountEnabled": True,
         **({"manager": f"u0@{DOMAIN}"} if i else {})}
        for i in range(5)
    ],
    "groups": [
        {"displayName": "Alpha", "members": [f"u{i}@{DOMAIN}" for i in range(3)]},
        {"displayName": "Beta", "members": [f"u{i}@{DOMAIN}" for i in range(3, 5)]},
    ],
}  # fmt: skip
SETTINGS_KEYS = {
    "dialect",
    "interval_minutes",
    "scope",
    "deletion_threshold",
    "skip_out_of_scope_deletions",
    "flatten_nested_groups",
    "max_concurrency",
    "max_requests_per_second",
}
SYNC_KEYS = {
    "cycle_id",
    "kind",
    "created",
    "updated",
    "disabled",
    "deleted",
    "skipped",
    "failed",
    "staged",
    "duration_s",
}


class CachedLivePortal(LivePortal):
    """`LivePortal` whose processes keep their bytecode in a private cache (the environment may
    forbid writing it), so that each `enlist` process starts in a second."""

    pycache: Path | None = None

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if self.pycache is not None:
            env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        return env


@dataclass
class Cli:
    """`enlist provisioning …` on the module's data directory. Every run is checked for the
    Secret token (whole, or its secret part after the `enl_` prefix) on stdout and stderr."""

    env: dict[str, str]
    tenant_url: str
    token: str

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [ENLIST, "provisioning", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        secret = self.token.split("_", 1)[-1]
        for output in (done.stdout, done.stderr):
            assert self.token not in output, f"the Secret token was printed by {args}"
            assert secret not in output, f"the Secret token was printed by {args}"
        return done

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args))

    def refused(self, *args: str) -> str:
        """Run a command that must fail as bad input does: exit 1, a message, no JSON on stdout."""
        done = self.run(*args)
        assert done.returncode == 1, (args, done.returncode, done.stdout, done.stderr)
        assert done.stdout.strip() == "", (args, done.stdout)
        assert done.stderr.strip(), f"{args} failed without a message"
        assert "Traceback" not in done.stderr, done.stderr
        return done.stderr


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    portal = CachedLivePortal(tmp_path_factory.mktemp("cli-portal"), None)
    portal.pycache = tmp_path_factory.getbasetemp() / "pycache"
    portal.start()
    try:
        tenant_url, token = portal.tenant("provisioning-cli")
        env = portal.env()
        env["ENLIST_DATA_DIR"] = str(tmp_path_factory.mktemp("provisioning-data"))
        env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
        yield Cli(env, tenant_url, token)
    finally:
        portal.stop()


@pytest.fixture(scope="module")
def imported(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    file = tmp_path_factory.mktemp("directory") / "directory.json"
    file.write_text(json.dumps(DIRECTORY), encoding="utf-8")
    result: dict[str, Any] = cli.json("directory", "import", str(file), "--json")
    return result


def app_name() -> str:
    return f"App {uuid.uuid4().hex[:8]}"


# -- The commands exist ---------------------------------------------------------------------


def command(*path: str) -> click.Command:
    ctx = click.Context(main)
    found: click.Command = main
    for name in path:
        assert isinstance(found, click.Group), f"{' '.join(path)}: {found.name} has no subcommands"
        sub = found.get_command(ctx, name)
        assert sub is not None, f"`enlist {' '.join(path)}` does not exist"
        found = sub
    return found


def options(cmd: click.Command) -> set[str]:
    return {opt for param in cmd.params for opt in getattr(param, "opts", [])}


CONTRACT: dict[tuple[str, ...], set[str]] = {
    ("provisioning", "serve"): {"--host", "--port"},
    ("provisioning", "directory", "import"): {"--replace", "--json"},
    ("provisioning", "app", "create"): {"--tenant-url", "--secret-token", "--json"},
    ("provisioning", "app", "test-connection"): {"--json"},
    ("provisioning", "app", "assign"): {"--user", "--group"},
    ("provisioning", "app", "unassign"): {"--user", "--group"},
    ("provisioning", "app", "start"): set(),
    ("provisioning", "app", "pause"): set(),
    ("provisioning", "app", "restart"): set(),
    ("provisioning", "app", "set"): set(),
    ("provisioning", "app", "show"): {"--json"},
    ("provisioning", "app", "sync"): {"--json"},
    ("provisioning", "app", "provision-on-demand"): {"--user", "--json"},
    ("provisioning", "app", "status"): {"--json"},
    ("provisioning", "logs"): {"--status", "--cycle", "--format"},
}


def test_every_command_and_option_of_the_contract_exists() -> None:
    for path, wanted in CONTRACT.items():
        assert wanted <= options(command(*path)), (
            f"`enlist {' '.join(path)}` lacks {wanted - options(command(*path))}"
        )
    formats = next(p for p in command("provisioning", "logs").params if "--format" in getattr(p, "opts", []))
    assert {"json", "csv"} <= set(formats.type.choices)  # type: ignore[attr-defined]


# -- The contract's JSON --------------------------------------------------------------------


def test_directory_import_json(imported: dict[str, Any]) -> None:
    assert imported["users_created"] == 5
    assert imported["groups_created"] == 2
    assert imported["memberships_added"] == 5


@pytest.fixture(scope="module")
def synced(cli: Cli, imported: dict[str, Any]) -> dict[str, Any]:
    """An application taken through the flow once: create, Test connection, assign, settings,
    start, provision on demand (before any cycle), two syncs. Each step's output, unjudged:
    the tests below judge them one by one."""
    name = app_name()
    flow: dict[str, Any] = {"name": name}
    flow["created"] = cli.json(
        "app", "create", name, "--tenant-url", cli.tenant_url, "--secret-token", cli.token, "--json"
    )
    flow["check"] = cli.run("app", "test-connection", name, "--json")
    cli.ok("app", "assign", name, "--group", "Alpha", "--user", f"u4@{DOMAIN}")
    cli.ok(
        "app",
        "set",
        name,
        "interval_minutes=20",
        "deletion_threshold=50",
        "max_concurrency=2",
        "dialect=entra",
    )
    cli.ok("app", "start", name)
    flow["on_demand"] = cli.run("app", "provision-on-demand", name, "--user", f"u1@{DOMAIN}", "--json")
    flow["first"] = cli.run("app", "sync", name, "--json")
    flow["second"] = cli.run("app", "sync", name, "--json")
    return flow


def parsed(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, (done.args, done.stdout, done.stderr)
    return json.loads(done.stdout)


def test_app_create_and_test_connection_json(synced: dict[str, Any], cli: Cli) -> None:
    created = synced["created"]
    assert created["name"] == synced["name"]
    assert created["connected"] is True
    assert created["tenant_url"] == cli.tenant_url
    assert created["state"] == "stopped"
    check = parsed(synced["check"])
    assert check["ok"] is True
    assert isinstance(check["message"], str)
    assert check["message"]


def test_app_show_json_has_the_settings(synced: dict[str, Any], cli: Cli) -> None:
    shown = cli.json("app", "show", synced["name"], "--json")
    assert "secret_token" not in shown
    settings = shown["settings"]
    assert set(settings) >= SETTINGS_KEYS
    assert settings["interval_minutes"] == 20
    assert settings["deletion_threshold"] == 50
    assert settings["max_concurrency"] == 2
    assert settings["dialect"] == "entra"
    assert settings["scope"] == "assigned"
    assert settings["skip_out_of_scope_deletions"] is False
    assert settings["flatten_nested_groups"] is False
    assert settings["max_requests_per_second"] == 0


def test_app_provision_on_demand_json(synced: dict[str, Any]) -> None:
    on_demand = parsed(synced["on_demand"])
    assert on_demand["user"] == f"u1@{DOMAIN}"
    assert on_demand["action"] == "create"
    assert on_demand["status"] == "success"
    assert {"import", "scoping", "matching", "export"} <= {
        s["provisioningStepType"] for s in on_demand["steps"]
    }


def test_app_sync_json(synced: dict[str, Any]) -> None:
    first, second = parsed(synced["first"]), parsed(synced["second"])
    assert set(first) >= SYNC_KEYS
    assert first["kind"] == "initial"
    assert first["failed"] == 0
    assert first["created"] == 4, first  # u0, u2, u4 and the group Alpha; u1 was provisioned on demand
    assert isinstance(first["duration_s"], float | int)
    assert set(second) >= SYNC_KEYS
    assert second["kind"] == "incremental"
    counts = ("created", "updated", "disabled", "deleted", "skipped", "failed", "staged")
    assert {k: second[k] for k in counts} == dict.fromkeys(counts, 0)


def test_app_status_json(synced: dict[str, Any], cli: Cli) -> None:
    status = cli.json("app", "status", synced["name"], "--json")
    assert status["name"] == synced["name"]
    assert status["state"] == "active"
    assert status["last_cycle"]["cycle_id"] == parsed(synced["second"])["cycle_id"]
    assert status["users_linked"] == 4
    assert status["running_cycle"] is None


def test_logs_as_csv(synced: dict[str, Any], cli: Cli) -> None:
    first = parsed(synced["first"])
    table = list(csv.DictReader(io.StringIO(cli.ok("logs", synced["name"], "--format", "csv"))))
    assert table
    assert {"cycle_id", "action", "status", "source_id", "target_id"} <= set(table[0])
    in_first = list(
        csv.DictReader(
            io.StringIO(cli.ok("logs", synced["name"], "--cycle", first["cycle_id"], "--format", "csv"))
        )
    )
    assert {r["cycle_id"] for r in in_first} == {first["cycle_id"]}
    assert len(in_first) == sum(
        first[k] for k in ("created", "updated", "disabled", "deleted", "skipped", "failed")
    )


def test_logs_as_json_with_filters(synced: dict[str, Any], cli: Cli) -> None:
    first = parsed(synced["first"])
    records = json.loads(cli.ok("logs", synced["name"], "--format", "json"))
    assert records
    assert {"cycle_id", "change_id", "action", "status", "source_id", "target_id", "steps"} <= set(records[0])
    in_first = json.loads(cli.ok("logs", synced["name"], "--cycle", first["cycle_id"], "--format", "json"))
    assert {r["cycle_id"] for r in in_first} == {first["cycle_id"]}
    successes = json.loads(cli.ok("logs", synced["name"], "--status", "success", "--format", "json"))
    assert successes
    assert {r["status"] for r in successes} == {"success"}


def test_app_pause_and_restart(synced: dict[str, Any], cli: Cli) -> None:
    cli.ok("app", "pause", synced["name"])
    assert cli.json("app", "show", synced["name"], "--json")["state"] == "paused"
    cli.ok("app", "restart", synced["name"])
    restarted = cli.json("app", "status", synced["name"], "--json")
    assert restarted["state"] == "active"
    assert restarted["users_linked"] == 4, "Restart keeps the links"


__all__ = ["counting_target"]  # a fixture, used by name


@pytest.mark.usefixtures("imported")
def test_a_paused_application_sends_nothing_on_sync_or_on_demand(
    cli: Cli, counting_target: CountingScimTarget
) -> None:
    name = app_name()
    url = counting_target.tenant_url
    cli.ok("app", "create", name, "--tenant-url", url, "--secret-token", "counting-target-token")
    cli.ok("app", "assign", name, "--group", "Alpha")
    cli.ok("app", "start", name)
    assert cli.json("app", "sync", name, "--json")["created"] == 4  # 3 users and the group
    cli.ok("app", "pause", name)
    counting_target.requests.clear()

    message = cli.refused("app", "sync", name)
    assert f"{name} is paused" in message, message
    assert f"hint: start it first: enlist provisioning app start '{name}'" in message, message

    as_json = cli.run("app", "sync", name, "--json")
    assert as_json.returncode == 1, as_json
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "AppPaused"
    assert f"{name} is paused" in error["message"]
    assert error["hint"] == f"start it first: enlist provisioning app start '{name}'"

    on_demand = cli.run("app", "provision-on-demand", name, "--user", f"u4@{DOMAIN}", "--json")
    assert on_demand.returncode == 1, on_demand
    assert json.loads(on_demand.stdout)["error"]["code"] == "AppPaused"

    assert counting_target.requests == [], "a paused application sends nothing"
    assert cli.json("app", "show", name, "--json")["state"] == "paused"


# -- Bad input ------------------------------------------------------------------------------


def test_an_unknown_application_is_refused_with_a_message(cli: Cli) -> None:
    for args in (("app", "show", "No such app", "--json"), ("logs", "No such app", "--format", "json")):
        message = cli.refused(*args)
        assert "No such app" in message, message


def test_a_bad_setting_is_refused_and_changes_nothing(synced: dict[str, Any], cli: Cli) -> None:
    name = synced["name"]
    assert "bogus" in cli.refused("app", "set", name, "bogus=1")
    # One bad value among good ones: none of them is applied.
    assert "interval_minutes" in cli.refused("app", "set", name, "max_concurrency=3", "interval_minutes=soon")

    settings = cli.json("app", "show", name, "--json")["settings"]
    assert settings["max_concurrency"] == 2
    assert settings["interval_minutes"] == 20


def test_a_bad_directory_file_names_its_line_and_changes_nothing(
    synced: dict[str, Any], cli: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"users": [\n'
        '  {"userPrincipalName": "new.person@contoso.com", "displayName": "New Person"},\n'
        '  {"userPrincipalName": "u0@contoso.com", "accountEnabled": "maybe"}\n'
        "]}\n",
        encoding="utf-8",
    )
    message = cli.refused("directory", "import", str(bad), "--json")
    assert "line 3" in message, message

    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"users": [\n  {"userPrincipalName": "other.person@contoso.com",}\n]}\n', encoding="utf-8"
    )
    assert "line 2" in cli.refused("directory", "import", str(broken), "--json")

    # Nothing of the refused file was written: its new user is unknown.
    assert "new.person@contoso.com" in cli.refused(
        "app", "assign", synced["name"], "--user", "new.person@contoso.com"
    )


def test_connecting_with_a_wrong_tenant_url_or_token_is_refused_and_saves_nothing(cli: Cli) -> None:
    name = app_name()
    cli.ok("app", "create", name, "--json")
    wrong_url = cli.tenant_url.rsplit("/", 1)[0] + "/no-such-tenant"
    message = cli.refused("app", "connect", name, "--tenant-url", wrong_url, "--secret-token", cli.token)
    assert "Test connection failed" in message, message

    wrong_token = f"enl_{uuid.uuid4().hex}"
    message = cli.refused(
        "app", "connect", name, "--tenant-url", cli.tenant_url, "--secret-token", wrong_token
    )
    assert wrong_token not in message
    assert "401" in message, message

    shown = cli.json("app", "show", name, "--json")
    assert shown["connected"] is False
    assert shown["tenant_url"] is None
    assert shown["state"] == "not_configured"
