"""The Source contract suite's Active Directory worlds: a `Tenant` held as objects of a real Samba
AD domain, changed the way an admin changes one (samba_seed: adds, renames of the CN, edits,
userAccountControl for a disable, deletes into tombstones).

One DC serves the whole test process (`shared_dc`, stopped at exit); each world lives in an OU
of its own (the source's base DN), deleted with everything in it when the test ends (a UPN is
unique in the whole domain, and every test's tenant has the same ones), bound as the domain's Administrator (who may use DirSync and
see tombstones). AD chooses every objectGUID itself, so the world keeps `tenant_ids` (objectGUID
-> the tenant's id, from `guid_of`). A deleted user restored is re-created, a new object with a
new objectGUID (Samba 4.17 cannot restore from its Recycle Bin); the old one stays soft-deleted.
"""

from __future__ import annotations

import atexit
import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import ldap
import ldap.dn
import pytest

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC, SambaUnavailableError, start_samba_dc, unavailable_reason

USER_FILTER = "(&(objectCategory=person)(objectClass=user))"
GROUP_FILTER = "(objectClass=group)"
_dc: SambaDC | None = None


def shared_dc() -> SambaDC:
    """The process's Samba DC, provisioned and started on first use; skips where Samba cannot run."""
    global _dc  # noqa: PLW0603 - one DC per test process
    if _dc is None:
        reason = unavailable_reason()
        if reason is not None:
            pytest.skip(f"Samba AD DC unavailable: {reason}")
        try:
            dc = start_samba_dc(Path(tempfile.mkdtemp(prefix="enlist-samba-contract-")))
        except SambaUnavailableError as error:
            pytest.fail(f"Samba should run here but did not: {error}")
        atexit.register(dc.stop)
        _dc = dc
    return _dc


class SambaWorld:
    """A `World` of the contract suite (see tests/contract/test_source_contract.py)."""

    reads_deltas = True
    reads = True
    next_read_full = False  # both AD delta mechanisms report deletions (tombstones)

    def __init__(self, service: Service, dc: SambaDC, base: str, name: str) -> None:
        self.service, self.dc, self.base, self.name = service, dc, base, name
        self.people = f"OU=People,{base}"
        self.groups = f"OU=Groups,{base}"
        self.held: Any = None
        self.dns: dict[str, str] = {}  # tenant id -> DN
        self.tenant_ids: dict[str, str] = {}  # objectGUID -> tenant id

    @staticmethod
    def _cn(upn: str) -> str:
        return upn.split("@", maxsplit=1)[0]

    async def hold(self, tenant: Any) -> None:
        from tests.contract.test_source_contract import Tenant  # noqa: PLC0415 - no import cycle at load

        was = self.held or Tenant()
        conn = self.dc.connect()
        try:
            for user in tenant.users.values():
                before = was.users.get(user.id)
                if before is None:
                    dn = seed.add_user(
                        conn,
                        self.people,
                        self._cn(user.upn),
                        upn=user.upn,
                        mail=user.upn,
                        title=user.job_title,
                        disabled=not user.enabled,
                    )
                    seed.replace(conn, dn, displayName=user.display_name)
                    self.dns[user.id] = dn
                    guid = seed.guid_of(conn, dn)
                    for old in [g for g, t in self.tenant_ids.items() if t == user.id]:
                        del self.tenant_ids[old]  # re-created: the old object stays soft-deleted
                    self.tenant_ids[guid] = user.id
                    continue
                if before.upn != user.upn:  # a rename: a new CN (a new DN), the same objectGUID
                    self.dns[user.id] = seed.rename(conn, self.dns[user.id], self._cn(user.upn))
                    seed.replace(conn, self.dns[user.id], userPrincipalName=user.upn, mail=user.upn)
                if (before.display_name, before.job_title) != (user.display_name, user.job_title):
                    seed.replace(conn, self.dns[user.id], displayName=user.display_name, title=user.job_title)
                if before.enabled != user.enabled:
                    seed.set_disabled(conn, self.dns[user.id], disabled=not user.enabled)
            for group in tenant.groups.values():
                old = was.groups.get(group.id)
                if old is None:
                    dn = seed.add_group(conn, self.groups, group.name)
                    self.dns[group.id] = dn
                    self.tenant_ids[seed.guid_of(conn, dn)] = group.id
                elif old.name != group.name:
                    self.dns[group.id] = seed.rename(conn, self.dns[group.id], group.name)
            for group in tenant.groups.values():
                old = was.groups.get(group.id)
                wanted = group.users | group.groups
                if old is None or (old.users | old.groups) != wanted:
                    values = sorted(self.dns[m].encode() for m in wanted) or None
                    if old is not None or values:
                        conn.modify_s(self.dns[group.id], [(ldap.MOD_REPLACE, "member", values)])
            for user in tenant.users.values():
                before = was.users.get(user.id)
                if (before.manager if before else None) != user.manager:
                    seed.replace(
                        conn, self.dns[user.id], manager=self.dns[user.manager] if user.manager else None
                    )
            for object_id in (set(was.groups) - set(tenant.groups)) | (set(was.users) - set(tenant.users)):
                seed.delete(conn, self.dns.pop(object_id))
        finally:
            conn.unbind_s()
        self.held = Tenant(dict(tenant.users), dict(tenant.groups))

    async def source(self) -> Any:
        return await operations.get(self.service, self.name)


@contextlib.asynccontextmanager
async def _world(service: Service, delta: str) -> AsyncIterator[SambaWorld]:
    dc = shared_dc()
    conn = dc.connect()
    try:
        base = seed.add_ou(conn, f"Contract {uuid.uuid4().hex[:12]}", dc.base_dn)
        seed.add_ou(conn, "People", base)
        seed.add_ou(conn, "Groups", base)
    finally:
        conn.unbind_s()
    await operations.add(
        service,
        "directory",
        "ldap",
        {
            "url": dc.url,
            "bind_dn": dc.admin_dn,
            "base_dn": base,
            "user_filter": USER_FILTER,
            "group_filter": GROUP_FILTER,
            "delta": delta,
        },
        {"bind_password": dc.password},
    )
    try:
        yield SambaWorld(service, dc, base, "directory")
    finally:  # UPNs are unique across the domain: the next test's tenant reuses them
        conn = dc.connect()
        try:
            seed.delete_tree(conn, base)
        finally:
            conn.unbind_s()


def ad_world(service: Service, _tmp_path: Path) -> contextlib.AbstractAsyncContextManager[SambaWorld]:
    """uSNChanged polling deltas (deletions from tombstones)."""
    return _world(service, "usn")


def ad_dirsync_world(service: Service, _tmp_path: Path) -> contextlib.AbstractAsyncContextManager[SambaWorld]:
    """DirSync deltas (the Administrator holds Replicating Directory Changes)."""
    return _world(service, "dirsync")
