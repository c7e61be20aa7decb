"""`enlist provisioning app export|import|import-entra-schema` and `enlist lms tenant
export|import` as real processes: an application exported from one data directory and imported
into an empty one (its Secret token on stdin) exports the same bytes; a dry run and a bad
document change nothing and say so; the Secret token is in no file and no output."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_provisioning_cli import DIRECTORY, CachedLivePortal
from tests.live import ENLIST

SCHEMA = Path(__file__).resolve().parents[1] / "integration" / "config" / "entra_synchronization_schema.json"


@dataclass
class Side:
    """`enlist` on one data directory; every run is checked for the Secret token."""

    env: dict[str, str]
    token: str

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [ENLIST, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        for output in (done.stdout, done.stderr):
            assert self.token.split("_", 1)[-1] not in output, f"the Secret token was printed by {args}"
        return done

    def ok(self, *args: str, stdin: str = "") -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def refused(self, *args: str, stdin: str = "") -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done.stderr


@dataclass
class Sides:
    original: Side
    empty: Side
    portal: Side
    token: str
    folder: Path


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sides]:
    """The original service (an application configured by commands) and an empty one, both
    with the same directory, against one live portal (`portal`: its own commands); and a
    folder for documents."""
    portal = CachedLivePortal(tmp_path_factory.mktemp("config-portal"), None)
    portal.pycache = tmp_path_factory.getbasetemp() / "pycache"
    portal.start()
    try:
        tenant_url, token = portal.tenant("config-cli")
        folder = tmp_path_factory.mktemp("documents")
        (folder / "directory.json").write_text(json.dumps(DIRECTORY), encoding="utf-8")
        made = []
        for name in ("original", "empty"):
            env = portal.env()
            env["ENLIST_DATA_DIR"] = str(tmp_path_factory.mktemp(name))
            env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
            side = Side(env, token)
            side.ok("provisioning", "directory", "import", str(folder / "directory.json"))
            made.append(side)
        original, empty = made
        original.ok(
            "provisioning",
            "app",
            "create",
            "Portal",
            "--tenant-url",
            tenant_url,
            "--secret-token",
            "-",
            stdin=token,
        )
        original.ok("provisioning", "app", "assign", "Portal", "--group", "Alpha", "--user", "u4@contoso.com")
        original.ok("provisioning", "app", "set", "Portal", "interval_minutes=20", "dialect=entra")
        original.ok("provisioning", "app", "start", "Portal")
        yield Sides(original, empty, Side(portal.env(), token), token, folder)
    finally:
        portal.stop()


def test_export_then_import_into_an_empty_service_gives_the_same_document(
    sides: Sides,
) -> None:
    original, empty, token, folder = sides.original, sides.empty, sides.token, sides.folder
    file = folder / "portal.yaml"
    original.ok("provisioning", "app", "export", "Portal", "--output", str(file))
    text = file.read_text(encoding="utf-8")
    assert token.split("_", 1)[-1] not in text
    assert "provisioning_status: 'on'" in text
    stderr = empty.refused("provisioning", "app", "import", str(file))
    assert "connection.secret_token" in stderr
    assert "nothing was changed" in stderr
    dry = empty.ok(
        "provisioning", "app", "import", str(file), "--dry-run", "--secret-token", "-", stdin=token
    )
    assert "+ settings.interval_minutes: 20.0" in dry
    assert '+ assignments.groups: "Alpha"' in dry
    assert dry.rstrip().endswith("dry run: nothing was changed")
    assert json.loads(empty.ok("provisioning", "app", "list", "--json")) == []
    done = empty.ok("provisioning", "app", "import", str(file), "--secret-token", "-", stdin=token)
    assert "Portal: created" in done
    assert empty.ok("provisioning", "app", "export", "Portal") == text
    again: dict[str, Any] = json.loads(empty.ok("provisioning", "app", "import", str(file), "--json"))
    assert again["changed"] is False
    assert empty.ok("provisioning", "app", "test-connection", "Portal").startswith("OK")


def test_a_bad_document_is_refused_with_its_path_and_changes_nothing(
    sides: Sides,
) -> None:
    original, folder = sides.original, sides.folder
    document = json.loads(original.ok("provisioning", "app", "export", "Portal", "--format", "json"))
    before = original.ok("provisioning", "app", "export", "Portal", "--format", "json")
    document["settings"]["interval_minutes"] = 0
    document["settings"]["deletion_threshold"] = 3
    bad = folder / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    stderr = original.refused("provisioning", "app", "import", str(bad))
    assert "settings.interval_minutes" in stderr
    assert "nothing was changed" in stderr
    (folder / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    assert "not valid YAML" in original.refused("provisioning", "app", "import", str(folder / "broken.yaml"))
    assert original.ok("provisioning", "app", "export", "Portal", "--format", "json") == before


def test_the_entra_schema_import_lists_what_it_skips(sides: Sides) -> None:
    original = sides.original
    before = original.ok("provisioning", "app", "export", "Portal")
    result = json.loads(
        original.ok(
            "provisioning", "app", "import-entra-schema", "Portal", str(SCHEMA), "--dry-run", "--json"
        )
    )
    assert result["import"]["dry_run"] is True
    assert len(result["skipped"]) == 6
    assert original.ok("provisioning", "app", "export", "Portal") == before
    shown = original.ok("provisioning", "app", "import-entra-schema", "Portal", str(SCHEMA))
    assert "skipped directories: attribute definitions" in shown
    assert "Portal: updated" in shown


def test_tenant_policies_export_and_import(sides: Sides) -> None:
    original, folder = sides.portal, sides.folder
    text = original.ok("lms", "tenant", "export", "config-cli", "--format", "json")
    document = json.loads(text)
    assert document["tenant"] == "config-cli"
    document["policies"]["seat_limit"] = 40
    file = folder / "tenant.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    dry = original.ok("lms", "tenant", "import", str(file), "--dry-run")
    assert "~ policies.seat_limit: null -> 40" in dry
    assert original.ok("lms", "tenant", "export", "config-cli", "--format", "json") == text
    original.ok("lms", "tenant", "import", str(file))
    assert (
        json.loads(original.ok("lms", "tenant", "show", "config-cli", "--json"))["policy"]["seat_limit"] == 40
    )
    document["policies"]["colour"] = "blue"
    file.write_text(json.dumps(document), encoding="utf-8")
    assert "policies.colour: unknown key" in original.refused("lms", "tenant", "import", str(file))
