"""`enlist provisioning source … --kind graph` against the fake Graph on loopback: add, test
(and what it says of a wrong secret), sync full then delta with the contract's counts, and the
secret in no output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from enlist.cli import main
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.threaded import ThreadedGraph, serve_in_thread
from tests.integration.sources.graph_helpers import make_certificate

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "graph-secret~value-77"
WRONG = "not-the-secret-88"
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


@pytest.fixture
def graph() -> Iterator[ThreadedGraph]:
    fake = FakeGraph()
    fake.tenant.register_app(CLIENT_ID, secret=SECRET)
    with serve_in_thread(fake) as served:
        yield served


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.env = {"ENLIST_DATA_DIR": str(data_dir), "ENLIST_PROVISIONING_DATABASE_URL": ""}
        self.runner = CliRunner()

    def run(self, *args: str, stdin: str | None = None) -> Any:
        result = self.runner.invoke(
            main, ["provisioning", "source", *args, "--json"], env=self.env, input=stdin
        )
        assert SECRET not in result.output
        assert WRONG not in result.output
        return result

    def json(self, *args: str, stdin: str | None = None) -> Any:
        result = self.run(*args, stdin=stdin)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def add(cli: Cli, graph: ThreadedGraph, name: str, secret: str) -> Any:
    return cli.json(
        "add",
        name,
        "--kind",
        "graph",
        "--tenant-id",
        graph.fake.tenant.tenant_id,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "-",
        "--graph-url",
        graph.fake.graph_base,
        "--login-url",
        graph.fake.auth_base,
        stdin=secret + "\n",
    )


def test_a_graph_source_is_tested_and_read_full_then_delta_through_the_cli(
    graph: ThreadedGraph, tmp_path: Path
) -> None:
    tenant = graph.fake.tenant
    boss = graph.change(lambda: tenant.create_user("boss@contoso.com", displayName="The Boss"))
    ann = graph.change(lambda: tenant.create_user("ann@contoso.com", displayName="Ann"))
    bob = graph.change(lambda: tenant.create_user("bob@contoso.com", displayName="Bob"))
    staff = graph.change(lambda: tenant.create_group("Staff"))
    for member in (ann, bob):
        graph.change(lambda m=member: tenant.add_member(staff, m))
    graph.change(lambda: tenant.set_manager(ann, boss))
    cli = Cli(tmp_path / "data")
    assert add(cli, graph, "entra", SECRET)["has_secrets"] is True
    assert cli.json("test", "entra")["ok"] is True

    full = cli.json("sync", "entra")
    assert set(full) >= SYNC_KEYS
    assert {k: full[k] for k in SYNC_KEYS - {"duration_s", "source"}} == {
        "kind": "full",
        "users_created": 3,
        "users_updated": 0,
        "users_deleted": 0,
        "groups_created": 1,
        "groups_updated": 0,
        "groups_deleted": 0,
        "memberships_added": 2,
        "memberships_removed": 0,
    }

    graph.change(lambda: tenant.rename_user(ann, "ann.smith@contoso.com"))
    graph.change(lambda: tenant.delete_user(bob))
    graph.change(lambda: tenant.remove_member(staff, bob))
    carol = graph.change(lambda: tenant.create_user("carol@contoso.com", displayName="Carol"))
    graph.change(lambda: tenant.add_member(staff, carol))
    delta = cli.json("sync", "entra")
    assert {k: delta[k] for k in SYNC_KEYS - {"duration_s", "source"}} == {
        "kind": "delta",
        "users_created": 1,
        "users_updated": 1,
        "users_deleted": 1,
        "groups_created": 0,
        "groups_updated": 0,
        "groups_deleted": 0,
        "memberships_added": 1,
        "memberships_removed": 1,
    }


def test_a_wrong_secret_is_named_by_source_test_and_never_printed(
    graph: ThreadedGraph, tmp_path: Path
) -> None:
    cli = Cli(tmp_path / "data")
    add(cli, graph, "entra", WRONG)
    result = cli.run("test", "entra")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["ok"] is False
    assert answer["details"] == {"step": "token"}
    assert "secret" in answer["message"]
    synced = cli.run("sync", "entra")
    assert synced.exit_code == 1
    assert "Traceback" not in synced.output


def test_a_graph_source_added_with_a_certificate_file_reaches_graph(tmp_path: Path) -> None:
    certificate = make_certificate()
    fake = FakeGraph()
    fake.tenant.register_app(CLIENT_ID, certificate_pem=certificate.certificate_pem)
    pem = tmp_path / "app.pem"
    pem.write_bytes(certificate.certificate_pem + certificate.private_key_pem)
    cli = Cli(tmp_path / "data")
    with serve_in_thread(fake) as graph:
        graph.change(lambda: fake.tenant.create_user("ann@contoso.com"))
        cli.json(
            "add",
            "entra",
            "--kind",
            "graph",
            "--tenant-id",
            fake.tenant.tenant_id,
            "--client-id",
            CLIENT_ID,
            "--certificate",
            str(pem),
            "--graph-url",
            fake.graph_base,
            "--login-url",
            fake.auth_base,
        )
        assert cli.json("test", "entra")["ok"] is True
        assert cli.json("sync", "entra")["users_created"] == 1
        result = cli.run("show", "entra")
    assert "PRIVATE KEY" not in result.output
