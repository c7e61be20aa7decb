"""Delta reads on a real Samba AD DC, by uSNChanged and by DirSync: what changed comes back whole,
what was deleted or left the scope comes back as a removed id, never by absence."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from enlist.provisioning.sources.ldap.ad import ActiveDirectoryDialect
from enlist.provisioning.sources.ldap.dialect import Scope
from enlist.provisioning.sources.model import CursorExpiredError, SourceUnavailableError
from tests.integration.ad.conftest import scope_of
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC

MODES = ["usn", "dirsync"]


@dataclass
class Delta:
    users: dict[str, str] = field(default_factory=dict)
    """id -> DN of every user entry returned."""
    groups: dict[str, str] = field(default_factory=dict)
    removed_users: set[str] = field(default_factory=set)
    removed_groups: set[str] = field(default_factory=set)
    watermark: str = ""
    enabled: dict[str, bool] = field(default_factory=dict)


def read_delta(dialect: ActiveDirectoryDialect, conn: Any, scope: Scope, watermark: str) -> Delta:
    delta = Delta()
    read = dialect.read_changes(conn, scope, watermark)
    for batch in read.batches():
        for dn, attributes in batch.users:
            delta.users[dialect.immutable_id((dn, attributes))] = dn.lower()
            delta.enabled[dialect.immutable_id((dn, attributes))] = dialect.account_enabled((dn, attributes))
        for dn, attributes in batch.groups:
            delta.groups[dialect.immutable_id((dn, attributes))] = dn.lower()
        delta.removed_users.update(batch.removed_users)
        delta.removed_groups.update(batch.removed_groups)
    delta.watermark = read.watermark
    return delta


@pytest.mark.parametrize("mode", MODES)
def test_every_kind_of_change_comes_back_and_deletions_as_removed_ids(
    mode: str, samba_dc: SambaDC, admin: Any, ou: str
) -> None:
    dialect = ActiveDirectoryDialect(delta_mode=mode)  # type: ignore[arg-type]
    elsewhere = seed.add_ou(admin, f"Elsewhere {uuid.uuid4().hex[:8]}", samba_dc.base_dn)
    sub = seed.add_ou(admin, "Sub", ou)
    keep = seed.add_user(admin, ou, "Keep Same")
    edit = seed.add_user(admin, ou, "Edit Me", title="Trainer")
    rename = seed.add_user(admin, ou, "Old Name")
    move_in = seed.add_user(admin, ou, "Move Within")
    move_out = seed.add_user(admin, ou, "Move Out")
    disable = seed.add_user(admin, ou, "Disable Me")
    delete = seed.add_user(admin, ou, "Delete Me")
    group = seed.add_group(admin, ou, "Team", [keep])
    doomed_group = seed.add_group(admin, ou, "Doomed")
    ids = {dn: seed.guid_of(admin, dn) for dn in (keep, edit, rename, move_in, move_out, disable, delete)}
    group_id, doomed_group_id = seed.guid_of(admin, group), seed.guid_of(admin, doomed_group)
    scope = scope_of(ou)

    watermark = dialect.start_watermark(admin, scope)
    assert json.loads(watermark)["mode"] == mode

    hire = seed.add_user(admin, ou, "New Hire", mail="hire@example.test")
    seed.replace(admin, edit, title="Senior Trainer")
    renamed = seed.rename(admin, rename, "New Name")
    moved = seed.move(admin, move_in, sub)
    seed.move(admin, move_out, elsewhere)
    seed.set_disabled(admin, disable, disabled=True)
    seed.delete(admin, delete)
    seed.add_members(admin, group, [hire])
    seed.delete(admin, doomed_group)

    delta = read_delta(dialect, admin, scope, watermark)
    hire_id = seed.guid_of(admin, hire)
    assert set(delta.users) == {hire_id, ids[edit], ids[rename], ids[move_in], ids[disable]}
    assert delta.users[ids[rename]] == renamed.lower()
    assert delta.users[ids[move_in]] == moved.lower()
    assert delta.enabled[ids[disable]] is False
    assert delta.enabled[hire_id] is True
    assert set(delta.groups) == {group_id}
    assert {ids[delete], ids[move_out]} <= delta.removed_users
    assert doomed_group_id in delta.removed_groups
    # Nothing still in scope is ever reported removed.
    live = {ids[keep], ids[edit], ids[rename], ids[move_in], ids[disable], hire_id, group_id}
    assert not live & (delta.removed_users | delta.removed_groups)

    again = read_delta(dialect, admin, scope, delta.watermark)
    assert (again.users, again.groups) == ({}, {})
    assert not live & (again.removed_users | again.removed_groups)


@pytest.mark.parametrize("mode", MODES)
def test_a_group_membership_change_returns_the_group_with_all_its_members(
    mode: str, admin: Any, ou: str
) -> None:
    dialect = ActiveDirectoryDialect(delta_mode=mode)  # type: ignore[arg-type]
    members = [seed.add_user(admin, ou, f"Member {index}") for index in range(3)]
    group = seed.add_group(admin, ou, "Crew", members[:2])
    scope = scope_of(ou)
    watermark = dialect.start_watermark(admin, scope)
    seed.remove_members(admin, group, [members[0]])
    seed.add_members(admin, group, [members[2]])
    read = dialect.read_changes(admin, scope, watermark)
    groups = [entry for batch in read.batches() for entry in batch.groups]
    assert len({dialect.immutable_id(entry) for entry in groups}) == 1
    found = dialect.member_dns(admin, groups[-1])
    assert {dn.lower() for dn in found} == {members[1].lower(), members[2].lower()}


@pytest.mark.parametrize("mode", MODES)
def test_a_deleted_user_restored_comes_back_with_the_same_id(mode: str, admin: Any, ou: str) -> None:
    dialect = ActiveDirectoryDialect(delta_mode=mode)  # type: ignore[arg-type]
    dn = seed.add_user(admin, ou, "Comes Back")
    user_id = seed.guid_of(admin, dn)
    scope = scope_of(ou)
    first = dialect.start_watermark(admin, scope)
    seed.delete(admin, dn)
    deleted = read_delta(dialect, admin, scope, first)
    seed.restore(admin, user_id, dn)
    restored = read_delta(dialect, admin, scope, deleted.watermark)
    assert user_id in deleted.removed_users
    assert user_id not in deleted.users
    assert set(restored.users) == {user_id}
    assert user_id not in restored.removed_users


def _edited(watermark: str, **changes: str) -> str:
    body = json.loads(watermark)
    body.update(changes)
    return json.dumps(body)


def test_a_usn_watermark_from_another_invocation_of_the_dc_forces_a_full_read(admin: Any, ou: str) -> None:
    dialect = ActiveDirectoryDialect(delta_mode="usn")
    scope = scope_of(ou)
    watermark = dialect.start_watermark(admin, scope)
    restored_dc = _edited(watermark, invocation_id=str(uuid.uuid4()))
    with pytest.raises(CursorExpiredError, match="invocationId changed"):
        dialect.read_changes(admin, scope, restored_dc)


def test_a_usn_watermark_from_another_dc_forces_a_full_read(admin: Any, ou: str) -> None:
    dialect = ActiveDirectoryDialect(delta_mode="usn")
    scope = scope_of(ou)
    other = "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=example,DC=test"
    watermark = _edited(dialect.start_watermark(admin, scope), dc=other)
    with pytest.raises(CursorExpiredError, match="uSNChanged is per DC"):
        dialect.read_changes(admin, scope, watermark)


@pytest.mark.parametrize("broken", ["", "not json", '{"v": 99}', '{"v":1,"mode":"usn"}'])
def test_an_unreadable_watermark_forces_a_full_read(broken: str, admin: Any, ou: str) -> None:
    with pytest.raises(CursorExpiredError):
        ActiveDirectoryDialect().read_changes(admin, scope_of(ou), broken)


def test_a_changed_delta_mode_forces_a_full_read(admin: Any, ou: str) -> None:
    scope = scope_of(ou)
    watermark = ActiveDirectoryDialect(delta_mode="usn").start_watermark(admin, scope)
    with pytest.raises(CursorExpiredError, match="delta mode changed"):
        ActiveDirectoryDialect(delta_mode="dirsync").read_changes(admin, scope, watermark)


def test_a_refused_dirsync_cookie_forces_a_full_read(admin: Any, ou: str) -> None:
    dialect = ActiveDirectoryDialect(delta_mode="dirsync")
    scope = scope_of(ou)
    watermark = _edited(dialect.start_watermark(admin, scope), dirsync_cookie="bm90IGEgY29va2ll")
    with pytest.raises(CursorExpiredError):
        list(dialect.read_changes(admin, scope, watermark).batches())


def test_the_watermark_is_not_final_before_the_read_ends(admin: Any, ou: str) -> None:
    dialect = ActiveDirectoryDialect(delta_mode="usn")
    scope = scope_of(ou)
    read = dialect.read_changes(admin, scope, dialect.start_watermark(admin, scope))
    with pytest.raises(RuntimeError, match="not final"):
        _ = read.watermark


@pytest.fixture
def plain_reader(samba_dc: SambaDC, admin: Any, ou: str) -> Any:
    """A bound connection of an ordinary domain user: it may read, not DirSync."""
    dn = seed.add_user(admin, ou, "Sync Reader", upn=f"reader.{uuid.uuid4().hex[:8]}@example.test")
    seed.set_password(samba_dc, dn, "Reader!Passw0rd1")
    conn = samba_dc.connect(dn, "Reader!Passw0rd1")
    yield conn
    conn.unbind_s()


def test_auto_takes_dirsync_when_the_account_may_and_usn_when_it_may_not(
    admin: Any, plain_reader: Any, ou: str
) -> None:
    scope = scope_of(ou)
    dialect = ActiveDirectoryDialect(delta_mode="auto")
    modes = [json.loads(dialect.start_watermark(conn, scope))["mode"] for conn in (admin, plain_reader)]
    assert modes == ["dirsync", "usn"]


def test_dirsync_without_the_right_says_which_right_is_missing(plain_reader: Any, ou: str) -> None:
    with pytest.raises(SourceUnavailableError, match="Replicating Directory Changes"):
        ActiveDirectoryDialect(delta_mode="dirsync").start_watermark(plain_reader, scope_of(ou))


def test_usn_deltas_for_an_account_that_cannot_see_deletions_become_full_reads(
    admin: Any, plain_reader: Any, ou: str
) -> None:
    dialect = ActiveDirectoryDialect(delta_mode="usn")
    scope = scope_of(ou)
    watermark = dialect.start_watermark(plain_reader, scope)
    assert dialect.deletions_visible(admin, scope) is True
    assert dialect.deletions_visible(plain_reader, scope) is False
    with pytest.raises(CursorExpiredError, match="cannot read deleted objects"):
        dialect.read_changes(plain_reader, scope, watermark)
