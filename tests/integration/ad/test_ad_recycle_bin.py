"""Deletions with the AD Recycle Bin enabled, on a DC of this module's own (enabling the
Recycle Bin is forest-wide and cannot be undone, so the shared DC stays without it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldap
import pytest

from enlist.provisioning.sources.ldap.ad import ActiveDirectoryDialect
from tests.integration.ad.conftest import scope_of
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC, SambaUnavailableError, start_samba_dc, unavailable_reason


@pytest.fixture(scope="module")
def recycle_bin_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"Samba AD DC unavailable: {reason}")
    try:
        dc = start_samba_dc(Path(tmp_path_factory.mktemp("samba-recycle-bin")))
    except SambaUnavailableError as error:
        pytest.fail(f"Samba should run here but did not: {error}")
    try:
        seed.enable_recycle_bin(dc)
        yield dc
    finally:
        dc.stop()


@pytest.fixture
def conn(recycle_bin_dc: SambaDC) -> Iterator[Any]:
    bound = recycle_bin_dc.connect()
    yield bound
    bound.unbind_s()


def test_the_recycle_bin_is_on_and_deleted_objects_keep_their_attributes(
    recycle_bin_dc: SambaDC, conn: Any
) -> None:
    assert seed.recycle_bin_enabled(conn) is True
    ou = seed.add_ou(conn, f"R {uuid.uuid4().hex[:8]}", recycle_bin_dc.base_dn)
    dn = seed.add_user(conn, ou, "Kept Attrs", mail="kept@example.test")
    guid = seed.guid_of(conn, dn)
    seed.delete(conn, dn)
    [(_, deleted)] = conn.search_ext_s(
        f"<GUID={guid}>", ldap.SCOPE_BASE, "(objectClass=*)", ["mail", "isDeleted"],
        serverctrls=[ldap.controls.LDAPControl(seed.SHOW_DELETED, True, None)],
    )  # fmt: skip
    assert deleted["isDeleted"] == [b"TRUE"]
    assert deleted["mail"] == [b"kept@example.test"]  # a tombstone without the Recycle Bin loses it


@pytest.mark.parametrize("mode", ["usn", "dirsync"])
def test_deletions_under_the_recycle_bin_come_back_as_removed_ids(
    mode: str, recycle_bin_dc: SambaDC, conn: Any
) -> None:
    dialect = ActiveDirectoryDialect(delta_mode=mode)  # type: ignore[arg-type]
    ou = seed.add_ou(conn, f"R {uuid.uuid4().hex[:8]}", recycle_bin_dc.base_dn)
    stays = seed.add_user(conn, ou, "Stays")
    goes = seed.add_user(conn, ou, "Goes")
    group = seed.add_group(conn, ou, "Goes Too", [stays, goes])
    ids = {dn: seed.guid_of(conn, dn) for dn in (stays, goes, group)}
    scope = scope_of(ou)
    watermark = dialect.start_watermark(conn, scope)
    seed.delete(conn, goes)
    seed.delete(conn, group)
    read = dialect.read_changes(conn, scope, watermark)
    removed_users: set[str] = set()
    removed_groups: set[str] = set()
    changed: set[str] = set()
    for batch in read.batches():
        removed_users.update(batch.removed_users)
        removed_groups.update(batch.removed_groups)
        changed.update(dialect.immutable_id(entry) for entry in (*batch.users, *batch.groups))
    assert ids[goes] in removed_users
    assert ids[group] in removed_groups
    assert ids[stays] not in removed_users | removed_groups
    assert ids[goes] not in changed
    assert read.watermark


def test_a_user_re_created_after_deletion_is_a_new_object(recycle_bin_dc: SambaDC, conn: Any) -> None:
    """Samba 4.17 cannot reanimate under the Recycle Bin, so there a restore is a re-creation:
    the same DN with a new objectGUID, which a delta reports as a new user."""
    dialect = ActiveDirectoryDialect(delta_mode="usn")
    ou = seed.add_ou(conn, f"R {uuid.uuid4().hex[:8]}", recycle_bin_dc.base_dn)
    dn = seed.add_user(conn, ou, "Again", upn=f"again.{uuid.uuid4().hex[:6]}@example.test")
    first = seed.guid_of(conn, dn)
    scope = scope_of(ou)
    watermark = dialect.start_watermark(conn, scope)
    seed.delete(conn, dn)
    seed.add_user(conn, ou, "Again")
    second = seed.guid_of(conn, dn)
    read = dialect.read_changes(conn, scope, watermark)
    batches = list(read.batches())
    assert second != first
    assert {dialect.immutable_id(entry) for batch in batches for entry in batch.users} == {second}
    assert first in {guid for batch in batches for guid in batch.removed_users}
