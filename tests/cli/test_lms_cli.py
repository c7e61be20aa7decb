"""`enlist lms tenant …` and `enlist lms log`, run as commands against a running portal."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from enlist.lms.domain import tokens
from enlist.lms.domain.synclog_export import CSV_COLUMNS
from tests.cli import (
    CreatedTenant,
    create_group,
    create_user,
    enlist,
    enlist_json,
    new_tenant,
    scim,
    scim_status,
)
from tests.helpers import PATCH_OP, USER
from tests.live import LivePortal

CONTRACT_KEYS = {"tenant", "name", "tenant_url", "policy", "secret_token"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("portal"), None).start()
    yield live
    live.stop()


@pytest.fixture
def tenant(portal: LivePortal) -> CreatedTenant:
    return new_tenant(portal)


# Tenants and Secret tokens


def test_create_json_prints_exactly_the_contract_keys(portal: LivePortal) -> None:
    created = enlist_json(portal, "lms", "tenant", "create", "Contract Corp", "--json")

    assert set(created) == CONTRACT_KEYS
    assert created["tenant"] == "contract-corp"
    assert created["name"] == "Contract Corp"
    assert created["tenant_url"] == f"{portal.url}/scim/v2/contract-corp"


def test_the_created_token_opens_the_tenant_url_on_the_running_portal(tenant: CreatedTenant) -> None:
    assert scim_status(tenant.tenant_url, tenant.token) == 200
    assert scim_status(tenant.tenant_url, "enl_not-a-real-token") == 401


def test_creating_a_tenant_twice_fails_with_a_message(portal: LivePortal, tenant: CreatedTenant) -> None:
    again = enlist(portal, "lms", "tenant", "create", tenant.slug, "--json")

    assert again.returncode == 1
    assert again.stdout == ""
    assert f"{tenant.slug!r} exists already" in again.stderr


def test_rotate_with_zero_overlap_prints_a_new_token_and_revokes_the_old(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    rotated = enlist_json(portal, "lms", "tenant", "rotate-token", tenant.slug, "--overlap", "0", "--json")

    assert rotated["secret_token"] != tenant.token
    assert scim_status(tenant.tenant_url, rotated["secret_token"]) == 200
    assert scim_status(tenant.tenant_url, tenant.token) == 401


def test_rotate_with_the_default_overlap_keeps_both_tokens_working(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    rotated = enlist_json(portal, "lms", "tenant", "rotate-token", tenant.slug, "--json")

    assert rotated["overlap_hours"] == 24
    assert scim_status(tenant.tenant_url, rotated["secret_token"]) == 200
    assert scim_status(tenant.tenant_url, tenant.token) == 200


def test_revoke_tokens_turns_every_token_away_and_says_how_to_mint_one(
    portal: LivePortal, tenant: CreatedTenant
) -> None:
    rotated = enlist_json(portal, "lms", "tenant", "rotate-token", tenant.slug, "--json")

    revoked = enlist(portal, "lms", "tenant", "revoke-tokens", tenant.slug)

    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith("2 token(s) revoked.")
    assert f"enlist lms tenant rotate-token {tenant.slug} --overlap 0" in revoked.stdout
    assert scim_status(tenant.tenant_url, tenant.token) == 401
    assert scim_status(tenant.tenant_url, rotated["secret_token"]) == 401


def test_set_changes_the_policies_that_show_prints(portal: LivePortal, tenant: CreatedTenant) -> None:
    changed = enlist(
        portal,
        "lms",
        "tenant",
        "set",
        tenant.slug,
        "seat_limit=2",
        "group_mode=groups",
        "unknown_managers=keep",
    )

    assert changed.returncode == 0, changed.stderr
    policy = enlist_json(portal, "lms", "tenant", "show", tenant.slug, "--json")["policy"]
    assert policy["seat_limit"] == 2
    assert policy["group_mode"] == "groups"
    assert policy["unknown_managers"] == "keep"


@pytest.mark.parametrize(
    ("setting", "named", "accepts"),
    [
        ("bogus=1", "'bogus'", "the settings are group_mode, placement, tie_break"),
        ("seat_limit=-1", "seat_limit", "at least 0"),
        ("group_mode=x", "group_mode", "one of departments, groups, both"),
        ("unknown_managers=maybe", "unknown_managers", "one of refuse, keep"),
    ],
)
def test_set_refuses_a_bad_setting_naming_it_and_what_it_accepts(
    portal: LivePortal, tenant: CreatedTenant, setting: str, named: str, accepts: str
) -> None:
    before = enlist_json(portal, "lms", "tenant", "show", tenant.slug, "--json")

    refused = enlist(portal, "lms", "tenant", "set", tenant.slug, "tie_break=oldest", setting)

    assert refused.returncode == 1
    assert named in refused.stderr
    assert accepts in refused.stderr
    assert enlist_json(portal, "lms", "tenant", "show", tenant.slug, "--json") == before


def test_show_never_prints_a_token_or_a_digest(portal: LivePortal, tenant: CreatedTenant) -> None:
    rotated = enlist_json(portal, "lms", "tenant", "rotate-token", tenant.slug, "--json")
    with sqlite3.connect(portal.data_dir / "lms.sqlite3") as db:
        digests = [row[0] for row in db.execute("SELECT digest FROM secret_tokens")]
    secrets = [tokens.split(t) for t in (tenant.token, rotated["secret_token"])]

    shown = enlist(portal, "lms", "tenant", "show", tenant.slug)
    shown_json = enlist(portal, "lms", "tenant", "show", tenant.slug, "--json")

    printed = shown.stdout + shown.stderr + shown_json.stdout + shown_json.stderr
    assert shown.returncode == shown_json.returncode == 0
    assert len(json.loads(shown_json.stdout)["tokens"]) == 2
    for parts in secrets:
        assert parts is not None
        assert parts[1] not in printed
    for digest in digests:
        assert digest not in printed


# The sync log


@dataclass(frozen=True)
class Logged:
    """A tenant after four SCIM writes over HTTP, in this order: create ada (201), rename ada
    (200), create ada again (409), create the group Lighthouse Keepers (201)."""

    slug: str
    user_id: str
    group_id: str


@pytest.fixture(scope="module")
def logged(portal: LivePortal) -> Logged:
    tenant = new_tenant(portal)
    with scim(tenant.tenant_url, tenant.token) as client:
        user_id = create_user(client, "ada")
        renamed = client.patch(
            f"/Users/{user_id}",
            json={
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "displayName", "value": "Ada Lovelace"}],
            },
        )
        assert renamed.status_code == 200, renamed.text
        clash = client.post("/Users", json={"schemas": [USER], "userName": "ada"})
        assert clash.status_code == 409, clash.text
        group_id = create_group(client, "Lighthouse Keepers", [user_id])
    return Logged(tenant.slug, user_id, group_id)


def test_log_lists_the_writes_newest_first_with_their_changes(portal: LivePortal, logged: Logged) -> None:
    entries = enlist_json(portal, "lms", "log", logged.slug, "--json")

    assert [(e["method"], e["status"], e["resource_type"]) for e in entries] == [
        ("POST", 201, "Group"),
        ("POST", 409, "User"),
        ("PATCH", 200, "User"),
        ("POST", 201, "User"),
    ]
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    renamed = entries[2]["changes"]
    assert {"attribute": "displayName", "old": None, "new": "Ada Lovelace"} in renamed
    assert any(c["attribute"] == "userName" and c["new"] == "ada" for c in entries[3]["changes"])


def test_log_status_failure_lists_only_failed_requests(portal: LivePortal, logged: Logged) -> None:
    entries = enlist_json(portal, "lms", "log", logged.slug, "--json", "--status", "failure")

    assert [(e["method"], e["status"]) for e in entries] == [("POST", 409)]
    assert entries[0]["error"]


def test_log_resource_type_lists_only_that_type(portal: LivePortal, logged: Logged) -> None:
    entries = enlist_json(portal, "lms", "log", logged.slug, "--json", "--resource-type", "User")

    assert [e["status"] for e in entries] == [409, 200, 201]
    assert {e["resource_type"] for e in entries} == {"User"}


def test_log_search_matches_text_in_the_resource_name(portal: LivePortal, logged: Logged) -> None:
    entries = enlist_json(portal, "lms", "log", logged.slug, "--json", "--search", "lighthouse")

    assert [e["resource_id"] for e in entries] == [logged.group_id]


def test_log_csv_prints_a_header_and_one_row_per_entry(portal: LivePortal, logged: Logged) -> None:
    done = enlist(portal, "lms", "log", logged.slug, "--format", "csv")

    assert done.returncode == 0, done.stderr
    header, *rows = list(csv.reader(io.StringIO(done.stdout)))
    assert header == list(CSV_COLUMNS)
    assert [row[CSV_COLUMNS.index("status")] for row in rows] == ["201", "409", "200", "201"]
    assert json.loads(rows[2][CSV_COLUMNS.index("changes")])[0]["attribute"] == "displayName"


def test_log_jsonl_prints_one_json_object_per_line(portal: LivePortal, logged: Logged) -> None:
    done = enlist(portal, "lms", "log", logged.slug, "--format", "jsonl")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(lines) == 4
    assert all(isinstance(e, dict) for e in entries)
    assert [e["status"] for e in entries] == [201, 409, 200, 201]


def test_log_of_an_unknown_tenant_fails_saying_how_to_create_one(portal: LivePortal) -> None:
    done = enlist(portal, "lms", "log", "no-such-tenant")

    assert done.returncode == 1
    assert "no tenant named 'no-such-tenant'" in done.stderr
    assert "enlist lms tenant create NAME" in done.stderr
