"""Seed and change a Samba AD domain over LDAP, as an admin would in Users and Computers.

Every helper takes a bound python-ldap connection (`SambaDC.connect()`) and returns DNs, so a
test (or the Source contract suite's AD world) builds exactly the tree it needs in its own OU,
changes it, and compares what the dialect reports. Users are created without a password
(`PASSWD_NOTREQD`), enabled (`userAccountControl` 544) or disabled (546); nothing here signs in.
"""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import ldap
from ldap.controls import LDAPControl
from ldap.dn import escape_dn_chars

if TYPE_CHECKING:
    from tests.ldap_servers.samba import SambaDC

NORMAL_ACCOUNT = 0x200
ACCOUNTDISABLE = 0x2
PASSWD_NOTREQD = 0x20
GLOBAL_SECURITY_GROUP = -2147483646
SHOW_DELETED = "1.2.840.113556.1.4.417"
RECYCLE_BIN_FEATURE_GUID = "766ddcd8-acd0-445e-f3b9-a7f9b6744f2a"
NEVER = 0x7FFFFFFFFFFFFFFF
_FILETIME_EPOCH_OFFSET = 11_644_473_600  # seconds from 1601-01-01 to 1970-01-01


def filetime(unix_seconds: float) -> int:
    """A Windows FILETIME (100 ns ticks since 1601) for a Unix time, as accountExpires holds."""
    return int((unix_seconds + _FILETIME_EPOCH_OFFSET) * 10_000_000)


def _account_name(dn: str) -> str:
    # sAMAccountName is unique in the domain and at most 20 characters: derive it from the DN.
    return "e" + hashlib.sha256(dn.lower().encode()).hexdigest()[:15]


def _values(value: str | int | Iterable[str]) -> list[bytes]:
    if isinstance(value, (str, int)):
        return [str(value).encode()]
    return [item.encode() for item in value]


def add_ou(conn: Any, name: str, parent: str) -> str:
    dn = f"OU={escape_dn_chars(name)},{parent}"
    conn.add_s(dn, [("objectClass", [b"organizationalUnit"])])
    return dn


def add_user(
    conn: Any,
    ou: str,
    cn: str,
    *,
    given_name: str | None = None,
    surname: str | None = None,
    mail: str | None = None,
    upn: str | None = None,
    title: str | None = None,
    department: str | None = None,
    employee_id: str | None = None,
    manager: str | None = None,
    disabled: bool = False,
    account_expires: int | None = None,
) -> str:
    """Create a user; unset attributes are left out, as AD leaves them."""
    dn = f"CN={escape_dn_chars(cn)},{ou}"
    uac = NORMAL_ACCOUNT | PASSWD_NOTREQD | (ACCOUNTDISABLE if disabled else 0)
    attributes: dict[str, str | int | None] = {
        "sAMAccountName": _account_name(dn),
        "userAccountControl": uac,
        "givenName": given_name,
        "sn": surname,
        "displayName": cn,
        "mail": mail,
        "userPrincipalName": upn,
        "title": title,
        "department": department,
        "employeeID": employee_id,
        "manager": manager,
        "accountExpires": account_expires,
    }
    entry = [("objectClass", [b"user"])] + [
        (name, _values(value)) for name, value in attributes.items() if value is not None
    ]
    conn.add_s(dn, entry)
    return dn


def add_users_bulk(conn: Any, ou: str, count: int, prefix: str = "Member") -> list[str]:
    """Create `count` enabled users fast: every add is sent before any answer is awaited."""
    dns = [f"CN={prefix} {index:05d},{ou}" for index in range(count)]
    uac = str(NORMAL_ACCOUNT | PASSWD_NOTREQD).encode()
    pending = [
        conn.add_ext(
            dn,
            [
                ("objectClass", [b"user"]),
                ("sAMAccountName", [_account_name(dn).encode()]),
                ("userAccountControl", [uac]),
            ],
        )
        for dn in dns
    ]
    for message_id in pending:
        conn.result3(message_id)
    return dns


def add_group(conn: Any, ou: str, cn: str, members: Sequence[str] = ()) -> str:
    """Create a global security group with `members` (DNs of users or groups)."""
    dn = f"CN={escape_dn_chars(cn)},{ou}"
    entry = [
        ("objectClass", [b"group"]),
        ("sAMAccountName", [_account_name(dn).encode()]),
        ("groupType", [str(GLOBAL_SECURITY_GROUP).encode()]),
    ]
    if members:
        entry.append(("member", [member.encode() for member in members]))
    conn.add_s(dn, entry)
    return dn


def add_members(conn: Any, group: str, members: Sequence[str]) -> None:
    conn.modify_s(group, [(ldap.MOD_ADD, "member", [member.encode() for member in members])])


def remove_members(conn: Any, group: str, members: Sequence[str]) -> None:
    conn.modify_s(group, [(ldap.MOD_DELETE, "member", [member.encode() for member in members])])


def replace(conn: Any, dn: str, **attributes: str | int | None) -> None:
    """Replace attributes (`None` clears one), as an admin's edit does."""
    changes = [
        (ldap.MOD_REPLACE, name, None if value is None else _values(value))
        for name, value in attributes.items()
    ]
    conn.modify_s(dn, changes)


def set_disabled(conn: Any, dn: str, *, disabled: bool) -> None:
    uac = NORMAL_ACCOUNT | PASSWD_NOTREQD | (ACCOUNTDISABLE if disabled else 0)
    replace(conn, dn, userAccountControl=uac)


def rename(conn: Any, dn: str, new_cn: str) -> str:
    """Rename in place (a new CN); returns the new DN."""
    rdn = f"CN={escape_dn_chars(new_cn)}"
    conn.rename_s(dn, rdn, None, 1)
    parent = ldap.dn.explode_dn(dn)[1:]
    return ",".join([rdn, *parent])


def move(conn: Any, dn: str, new_parent: str) -> str:
    """Move to another OU, keeping the RDN; returns the new DN."""
    rdn = ldap.dn.explode_dn(dn)[0]
    conn.rename_s(dn, rdn, new_parent, 1)
    return f"{rdn},{new_parent}"


def delete(conn: Any, dn: str) -> None:
    conn.delete_s(dn)


def delete_tree(conn: Any, dn: str) -> None:
    """Delete `dn` and everything under it (the tree-delete control, 1.2.840.113556.1.4.805)."""
    conn.delete_ext_s(dn, serverctrls=[LDAPControl("1.2.840.113556.1.4.805", True, None)])


def guid_of(conn: Any, dn: str) -> str:
    """The object's objectGUID as canonical UUID text."""
    [(_, attributes)] = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["objectGUID"])
    return str(uuid.UUID(bytes_le=attributes["objectGUID"][0]))


def _configuration_dn(conn: Any) -> str:
    [(_, root)] = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["configurationNamingContext"])
    return str(root["configurationNamingContext"][0].decode())


def recycle_bin_enabled(conn: Any) -> bool:
    """Whether the Recycle Bin optional feature is enabled (it cannot be disabled again)."""
    partitions = f"CN=Partitions,{_configuration_dn(conn)}"
    [(_, attributes)] = conn.search_s(partitions, ldap.SCOPE_BASE, "(objectClass=*)", ["msDS-EnabledFeature"])
    return any(b"Recycle Bin Feature" in value for value in attributes.get("msDS-EnabledFeature", []))


_ENABLE_RECYCLE_BIN = """
import sys, ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
change = ldb.Message()
change.dn = ldb.Dn(db, "")
value = "CN=Partitions," + str(db.get_config_basedn()) + ":" + sys.argv[2]
change["enableOptionalFeature"] = ldb.MessageElement(value, ldb.FLAG_MOD_ADD, "enableOptionalFeature")
db.modify(change)
"""


def enable_recycle_bin(dc: SambaDC) -> None:
    """Enable the Recycle Bin for the forest (it cannot be disabled again).

    Windows does it with a rootDSE `enableOptionalFeature` modify by an Enterprise Admin; Samba
    accepts that modify only from the system session, so it is made through Samba's own Python
    bindings on the DC's database (Debian's python3-samba, beside the running DC)."""
    conn = dc.connect()
    try:
        if recycle_bin_enabled(conn):
            return
    finally:
        conn.unbind_s()
    subprocess.run(
        ["/usr/bin/python3", "-c", _ENABLE_RECYCLE_BIN, str(dc.smb_conf), RECYCLE_BIN_FEATURE_GUID],
        check=True,
        capture_output=True,
    )


def set_password(dc: SambaDC, dn: str, password: str) -> None:
    """Set a user's password over LDAPS (AD takes `unicodePwd` only on an encrypted connection);
    the test DC's certificate is self-signed, so it is not verified here."""
    conn = ldap.initialize(dc.ldaps_url)
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_NEVER)
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    try:
        conn.simple_bind_s(dc.admin_dn, dc.password)
        quoted = f'"{password}"'.encode("utf-16-le")
        conn.modify_s(dn, [(ldap.MOD_REPLACE, "unicodePwd", [quoted])])
    finally:
        conn.unbind_s()


def restore(conn: Any, guid: str, new_dn: str) -> None:
    """Restore (reanimate) a deleted object by its GUID to `new_dn`, as `Restore-ADObject` does:
    remove `isDeleted` and set the DN, with the Show Deleted control.

    Samba 4.17 reanimates tombstones (no Recycle Bin) but fails on a deleted object once the
    Recycle Bin is enabled (tombstone_reanimate: "isRecycled: no such attribute"); there a
    restore is a re-creation."""
    show_deleted = [LDAPControl(SHOW_DELETED, True, None)]
    # Samba reanimates only by the tombstone's own DN, not by a <GUID=…> DN.
    [(deleted_dn, _)] = conn.search_ext_s(
        f"<GUID={guid}>", ldap.SCOPE_BASE, "(objectClass=*)", ["isDeleted"], serverctrls=show_deleted
    )
    conn.modify_ext_s(
        deleted_dn,
        [
            (ldap.MOD_DELETE, "isDeleted", None),
            (ldap.MOD_REPLACE, "distinguishedName", [new_dn.encode()]),
        ],
        serverctrls=show_deleted,
    )


def seed_tutorial_domain(dc: SambaDC) -> str:
    """A small company under OU=Enlist Tutorial: two departments, a manager chain, a disabled
    leaver, nested groups. Returns the OU's DN (the tutorial's base DN)."""
    conn = dc.connect()
    try:
        root = add_ou(conn, "Enlist Tutorial", dc.base_dn)
        people = add_ou(conn, "People", root)
        groups = add_ou(conn, "Groups", root)
        realm = "example.test"
        ada = add_user(
            conn, people, "Ada Lovelace", given_name="Ada", surname="Lovelace",
            mail=f"ada@{realm}", upn=f"ada@{realm}", title="Head of Learning",
            department="Learning", employee_id="1001",
        )  # fmt: skip
        grace = add_user(
            conn, people, "Grace Hopper", given_name="Grace", surname="Hopper",
            mail=f"grace@{realm}", upn=f"grace@{realm}", title="Trainer",
            department="Learning", employee_id="1002", manager=ada,
        )  # fmt: skip
        alan = add_user(
            conn, people, "Alan Turing", given_name="Alan", surname="Turing",
            mail=f"alan@{realm}", upn=f"alan@{realm}", title="Engineer",
            department="Engineering", employee_id="1003", manager=ada,
        )  # fmt: skip
        add_user(
            conn, people, "Old Leaver", given_name="Old", surname="Leaver",
            mail=f"leaver@{realm}", upn=f"leaver@{realm}", department="Engineering",
            employee_id="0999", disabled=True,
        )  # fmt: skip
        trainers = add_group(conn, groups, "Trainers", [grace])
        add_group(conn, groups, "Learning Staff", [ada, trainers])
        add_group(conn, groups, "Engineers", [alan])
        return root
    finally:
        conn.unbind_s()
