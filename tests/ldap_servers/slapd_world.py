"""The Source contract suite's OpenLDAP worlds: a `Tenant` held as a slapd tree, changed the way
an admin changes one (adds, modrdn for a rename, modify, delete; refint cleans references).

One slapd serves the whole test process (`shared_slapd`, stopped at exit); each world lives in
an OU of its own. Ids are the tenant's: entries are added with their `entryUUID` (Relax
control), and a deleted user restored is re-created with its old one.
"""

from __future__ import annotations

import atexit
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import ldap
import ldap.dn

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.ldap_servers.slapd import READER_DN, READER_PASSWORD, SUFFIX, Slapd, add

NOBODY = f"cn=nobody,{SUFFIX}"  # refint's placeholder for a group's last member; resolves to nothing
LOCKED = b"000001010000Z"  # ppolicy: locked until an admin unlocks
_server: Slapd | None = None


def shared_slapd() -> Slapd:
    """The process's slapd, started on first use."""
    global _server  # noqa: PLW0603 - one server per test process
    if _server is None:
        server = Slapd(Path(tempfile.mkdtemp(prefix="enlist-slapd-")))
        server.configure()
        server.start()
        server.seed_base()
        atexit.register(server.stop)
        _server = server
    return _server


def ldap_settings(server: Slapd, base: str, **extra: Any) -> dict[str, Any]:
    return {"url": server.url, "bind_dn": READER_DN, "base_dn": base, **extra}


class SlapdWorld:
    """A `World` of the contract suite (see tests/contract/test_source_contract.py)."""

    reads_deltas = True
    reads = True

    def __init__(
        self, service: Service, server: Slapd, base: str, name: str, *, deletes_in_deltas: bool
    ) -> None:
        self.service, self.server, self.base, self.name = service, server, base, name
        self.deletes_in_deltas = deletes_in_deltas
        self.held: Any = None
        self.dns: dict[str, str] = {}
        self.next_read_full = False
        self.tenant_ids: dict[str, str] = {}  # entries carry the tenant's own ids (entryUUID)

    def _user_dn(self, upn: str) -> str:
        return f"uid={ldap.dn.escape_dn_chars(upn.split('@', maxsplit=1)[0])},ou=people,{self.base}"

    def _group_dn(self, name: str) -> str:
        return f"cn={ldap.dn.escape_dn_chars(name)},ou=groups,{self.base}"

    async def hold(self, tenant: Any) -> None:
        from tests.contract.test_source_contract import Tenant  # noqa: PLC0415 - no import cycle at load

        was = self.held or Tenant()
        conn = self.server.admin()
        try:
            for user in tenant.users.values():
                before = was.users.get(user.id)
                attrs = {
                    "displayName": [user.display_name.encode()],
                    "cn": [user.display_name.encode()],
                    "mail": [user.upn.encode()],
                }
                if before is None:
                    dn = self._user_dn(user.upn)
                    add(
                        conn,
                        dn,
                        {
                            "objectClass": ["inetOrgPerson"],
                            "uid": [user.upn.split("@")[0]],
                            "sn": [user.display_name],
                            "cn": [user.display_name],
                            "displayName": [user.display_name],
                            "mail": [user.upn],
                            "entryUUID": [user.id],
                            **({"title": [user.job_title]} if user.job_title else {}),
                        },
                    )
                    self.dns[user.id] = dn
                    if not user.enabled:
                        conn.modify_s(dn, [(ldap.MOD_REPLACE, "pwdAccountLockedTime", [LOCKED])])
                    continue
                if before.upn != user.upn:
                    rdn = self._user_dn(user.upn).split(",", 1)[0]
                    conn.rename_s(self.dns[user.id], rdn, delold=1)
                    self.dns[user.id] = self._user_dn(user.upn)
                changes = [(ldap.MOD_REPLACE, k, v) for k, v in attrs.items()]
                changes.append(
                    (ldap.MOD_REPLACE, "title", [user.job_title.encode()] if user.job_title else None)
                )
                if before.enabled != user.enabled:
                    changes.append(
                        (ldap.MOD_REPLACE, "pwdAccountLockedTime", None)
                        if user.enabled
                        else (ldap.MOD_REPLACE, "pwdAccountLockedTime", [LOCKED])
                    )
                if (before.upn, before.display_name, before.job_title, before.enabled) != (
                    user.upn,
                    user.display_name,
                    user.job_title,
                    user.enabled,
                ):
                    conn.modify_ext_s(self.dns[user.id], changes)
            for group in tenant.groups.values():
                old = was.groups.get(group.id)
                if old is None:
                    dn = self._group_dn(group.name)
                    add(
                        conn,
                        dn,
                        {
                            "objectClass": ["groupOfNames"],
                            "cn": [group.name],
                            "member": [NOBODY],
                            "entryUUID": [group.id],
                        },
                    )
                    self.dns[group.id] = dn
                elif old.name != group.name:
                    conn.rename_s(self.dns[group.id], self._group_dn(group.name).split(",", 1)[0], delold=1)
                    self.dns[group.id] = self._group_dn(group.name)
            for group in tenant.groups.values():
                old = was.groups.get(group.id)
                wanted = group.users | group.groups
                if old is None or (old.users | old.groups) != wanted:
                    values = sorted(self.dns[m].encode() for m in wanted) or [NOBODY.encode()]
                    conn.modify_s(self.dns[group.id], [(ldap.MOD_REPLACE, "member", values)])
            for user in tenant.users.values():
                before = was.users.get(user.id)
                if before is None or before.manager != user.manager:
                    value = [self.dns[user.manager].encode()] if user.manager else None
                    if before is None and value is None:
                        continue
                    conn.modify_s(self.dns[user.id], [(ldap.MOD_REPLACE, "manager", value)])
            gone = False
            for group_id in set(was.groups) - set(tenant.groups):
                conn.delete_s(self.dns.pop(group_id))
                gone = True
            for user_id in set(was.users) - set(tenant.users):
                conn.delete_s(self.dns.pop(user_id))
                gone = True
        finally:
            conn.unbind_s()
        # Polling cannot see a deletion: the source's full read (on its slower schedule) does.
        self.next_read_full = gone and not self.deletes_in_deltas
        self.held = Tenant(dict(tenant.users), dict(tenant.groups))

    async def source(self) -> Any:
        return await operations.get(self.service, self.name)


@contextlib.asynccontextmanager
async def _world(service: Service, delta: str) -> AsyncIterator[SlapdWorld]:
    server = shared_slapd()
    base = server.branch()
    await operations.add(
        service,
        "directory",
        "ldap",
        ldap_settings(server, base, delta=delta),
        {"bind_password": READER_PASSWORD},
    )
    yield SlapdWorld(service, server, base, "directory", deletes_in_deltas=delta != "timestamp")


def openldap_world(service: Service, _tmp_path: Path) -> contextlib.AbstractAsyncContextManager[SlapdWorld]:
    """syncrepl refreshOnly deltas (deletions from the provider's session log)."""
    return _world(service, "syncrepl")


def openldap_timestamp_world(
    service: Service, _tmp_path: Path
) -> contextlib.AbstractAsyncContextManager[SlapdWorld]:
    """entryCSN polling deltas; deletions by a full read."""
    return _world(service, "timestamp")
