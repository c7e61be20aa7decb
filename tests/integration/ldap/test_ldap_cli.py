"""`enlist provisioning source … --kind ldap` against the real slapd: add (the password read from
stdin, sealed, never printed), test (the dialect guessed and shown; a wrong password named),
sync full then delta with the contract's keys, and `source set` of the LDAP keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from enlist.cli import main
from tests.integration.ldap.helpers import group, modify, person
from tests.ldap_servers.slapd import READER_DN, READER_PASSWORD, Slapd

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


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.env = {"ENLIST_DATA_DIR": str(data_dir), "ENLIST_PROVISIONING_DATABASE_URL": ""}
        self.runner = CliRunner()

    def run(self, *args: str, stdin: str | None = None) -> Any:
        result = self.runner.invoke(
            main, ["provisioning", "source", *args, "--json"], env=self.env, input=stdin
        )
        assert READER_PASSWORD not in result.output
        return result

    def json(self, *args: str, stdin: str | None = None) -> Any:
        result = self.run(*args, stdin=stdin)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def test_an_ldap_source_is_added_tested_and_read_full_then_delta(
    slapd: Slapd, branch: str, tmp_path: Path
) -> None:
    conn = slapd.admin()
    boss_dn, _ = person(conn, branch, "boss")
    ann_dn, _ = person(conn, branch, "ann", manager=boss_dn)
    bob_dn, _ = person(conn, branch, "bob")
    staff_dn, _ = group(conn, branch, "staff", [ann_dn, bob_dn])
    cli = Cli(tmp_path / "data")
    added = cli.json(
        "add",
        "corp",
        "--kind",
        "ldap",
        "--url",
        slapd.url,
        "--bind-dn",
        READER_DN,
        "--bind-password",
        "-",
        "--base-dn",
        branch,
        "--user-filter",
        "(objectClass=inetOrgPerson)",
        "--group-filter",
        "(objectClass=groupOfNames)",
        "--ca-file",
        str(slapd.tls.ca_file),
        "--start-tls",
        "--page-size",
        "2",
        stdin=READER_PASSWORD + "\n",
    )
    assert added["has_secrets"] is True
    assert "bind_password" not in json.dumps(added["settings"])
    tested = cli.json("test", "corp")
    assert (tested["ok"], tested["details"]["dialect"], tested["details"]["tls"]) == (
        True,
        "openldap",
        "verified",
    )
    full = cli.json("sync", "corp")
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
    conn.rename_s(ann_dn, "uid=ann.smith", delold=1)
    modify(conn, f"uid=ann.smith,ou=people,{branch}", mail="ann.smith@example.com")
    conn.delete_s(bob_dn)
    carol_dn, _ = person(conn, branch, "carol")
    modify(conn, staff_dn, member=[f"uid=ann.smith,ou=people,{branch}", carol_dn])
    delta = cli.json("sync", "corp")
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
    shown = cli.run("show", "corp")
    assert shown.exit_code == 0


def test_a_wrong_password_is_named_and_source_set_changes_the_ldap_keys(
    slapd: Slapd, branch: str, tmp_path: Path
) -> None:
    person(slapd.admin(), branch, "ann")
    cli = Cli(tmp_path / "data")
    common = [
        "add",
        "corp",
        "--kind",
        "ldap",
        "--url",
        slapd.url,
        "--bind-dn",
        READER_DN,
        "--base-dn",
        branch,
    ]
    cli.json(*common, "--bind-password", "-", stdin="not-the-password\n")
    result = cli.run("test", "corp")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert (answer["ok"], answer["details"]["step"]) == (False, "bind")
    assert "not-the-password" not in result.output
    cli.json("set", "corp", "bind_password=-", stdin=READER_PASSWORD + "\n")
    changed = cli.json("set", "corp", "page_size=1", "delta=timestamp", "dialect=openldap", "timeout=5")
    assert {k: changed["settings"][k] for k in ("page_size", "delta", "dialect", "timeout")} == {
        "page_size": "1",
        "delta": "timestamp",
        "dialect": "openldap",
        "timeout": "5",
    }
    tested = cli.json("test", "corp")
    assert (tested["ok"], tested["details"]["delta"]) == (True, "timestamp")
    assert "(set; root DSE says openldap)" in tested["message"]
    assert cli.json("sync", "corp")["users_created"] == 1
    for bad in ("page_size=many", "delta=psychic", "start_tls=maybe", "url=http://x"):
        refused = cli.run("set", "corp", bad)
        assert refused.exit_code == 1, bad
        assert bad.split("=")[0] in refused.output or "url" in refused.output
    assert cli.json("show", "corp")["settings"]["page_size"] == "1", "a refused change writes nothing"


def test_an_ldap_source_without_a_base_dn_is_refused(slapd: Slapd, tmp_path: Path) -> None:
    result = Cli(tmp_path / "data").run(
        "add", "corp", "--kind", "ldap", "--url", slapd.url, "--bind-dn", READER_DN
    )
    assert result.exit_code == 1
    assert "--base-dn" in result.output
