"""`enlist provisioning app preview` on a live portal: `--json` has `app sync --json`'s count
keys, `reads_target` and `items`, its counts are those of the `sync` that follows, `--format
csv` has one row per planned change, and the text says that the target was read."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests.cli.test_provisioning_cli import DOMAIN, Cli, app_name, cli, command, imported, options

__all__ = ["cli", "imported"]  # the module's fixtures, shared with test_provisioning_cli

COUNT_KEYS = ("created", "updated", "disabled", "deleted", "skipped", "failed", "staged")


def test_preview_has_its_contract_options() -> None:
    assert {"--initial", "--json", "--format"} <= options(command("provisioning", "app", "preview"))


def test_preview_json_csv_and_text_announce_what_the_following_sync_does(
    cli: Cli, imported: dict[str, Any]
) -> None:
    assert imported["users_created"] > 0
    name = app_name()
    cli.ok("app", "create", name, "--tenant-url", cli.tenant_url, "--secret-token", cli.token)
    cli.ok("app", "assign", name, "--group", "Alpha", "--user", f"u4@{DOMAIN}")
    cli.ok("app", "start", name)

    planned = cli.json("app", "preview", name, "--json")
    assert planned["reads_target"] is True
    assert planned["kind"] == "initial"
    assert planned["created"] == len([i for i in planned["items"] if i["action"] == "create"]) > 0
    for item in planned["items"]:
        assert {"object", "kind", "action", "changes"} <= set(item)
        assert all(set(c) == {"old", "new"} for c in item["changes"].values())

    rows = list(csv.DictReader(io.StringIO(cli.ok("app", "preview", name, "--format", "csv"))))
    assert len(rows) == sum(max(1, len(i["changes"])) for i in planned["items"])
    assert {r["object"] for r in rows} == {i["object"] for i in planned["items"]}

    text = cli.ok("app", "preview", name)
    assert "nothing sent" in text
    assert "Read the target" in text

    synced = json.loads(cli.ok("app", "sync", name, "--json"))
    assert {k: planned[k] for k in COUNT_KEYS} == {k: synced[k] for k in COUNT_KEYS}
    again = cli.json("app", "preview", name, "--json")
    assert again["kind"] == "incremental"
    assert again["created"] == 0
    initial = cli.json("app", "preview", name, "--initial", "--json")
    assert initial["kind"] == "initial"
    assert initial["created"] == 0  # everything is linked now: an initial cycle creates nothing
