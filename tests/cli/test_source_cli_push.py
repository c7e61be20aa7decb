"""`enlist provisioning source …` on a push source: `add --json` prints exactly its name, base
URL and token (shown only there); `rotate-token` mints a new one; `test` says the endpoint,
the tokens and the last push; `sync` says there is nothing to read and what to do instead."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_source_cli import SYNC_KEYS, Cli


def test_add_prints_exactly_the_name_the_base_url_and_the_token(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "var")
    added = cli.json("add", "hr", "--kind", "scim-push")
    assert set(added) == {"name", "base_url", "token"}
    assert added["base_url"].endswith("/scim/v2/sources/hr")
    assert added["token"].startswith("enl_")
    shown = cli.json("show", "hr")
    assert added["token"] not in json.dumps(shown)
    assert shown["has_secrets"] is True
    assert shown["next_read_at"] is None, "a push source is never read on an interval"


def test_rotate_token_mints_a_new_token_with_an_overlap(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "var")
    added = cli.json("add", "hr", "--kind", "scim-push")
    rotated = cli.json("rotate-token", "hr", "--overlap-minutes", "15")
    assert set(rotated) == {"name", "base_url", "token", "previous_tokens_until"}
    assert rotated["token"] != added["token"]
    assert rotated["previous_tokens_until"] is not None
    tested = cli.json("test", "hr")
    assert tested["details"]["usable_tokens"] == 2
    closed = cli.json("rotate-token", "hr", "--overlap-minutes", "0")
    assert closed["previous_tokens_until"] is None
    assert cli.json("test", "hr")["details"]["usable_tokens"] == 1


def test_rotate_token_of_a_source_that_is_not_a_push_source_is_refused(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "var")
    cli.json("add", "drop", "--kind", "file", "--path", str(tmp_path))
    result = cli.run("rotate-token", "drop")
    assert result.exit_code == 1
    assert "not a push source" in result.stderr


def test_test_and_sync_say_what_a_push_source_is(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "var")
    added = cli.json("add", "hr", "--kind", "scim-push")
    tested = cli.json("test", "hr")
    assert tested["ok"] is True
    assert tested["details"]["base_url"] == added["base_url"]
    assert tested["details"]["last_push"] == {"at": None, "counts": None}
    assert tested["details"]["bulk_uploads_not_done"] == 0
    assert "last push: never" in tested["message"]
    synced = cli.json("sync", "hr")
    assert set(synced) >= SYNC_KEYS
    assert (synced["kind"], synced["read"]) == ("none", False)
    assert "nothing to read" in synced["message"]
    plain = cli.run("sync", "hr")
    assert plain.exit_code == 0
    assert added["base_url"] in plain.output
