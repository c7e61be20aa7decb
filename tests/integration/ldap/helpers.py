"""Building test trees in the real slapd: people and groups as an admin adds them."""

from __future__ import annotations

import uuid
from typing import Any

import ldap

from enlist.provisioning.sources.ldap.settings import LdapSettings
from tests.ldap_servers.slapd import READER_DN, READER_PASSWORD, Slapd, add

NOBODY_MEMBER = "cn=nobody,dc=example,dc=com"


def person(
    conn: Any, branch: str, uid: str, ou: str = "people", **attributes: str | list[str]
) -> tuple[str, str]:
    """Add an inetOrgPerson `uid` under `ou=…` of the branch; its (DN, entryUUID)."""
    dn = f"uid={uid},ou={ou},{branch}"
    ident = str(uuid.uuid4())
    values = {k: v if isinstance(v, list) else [v] for k, v in attributes.items()}
    add(
        conn,
        dn,
        {
            "objectClass": ["inetOrgPerson"],
            "uid": [uid],
            "cn": [uid.title()],
            "sn": [uid.title()],
            "mail": [f"{uid}@example.com"],
            "entryUUID": [ident],
            **values,
        },
    )
    return dn, ident


def group(conn: Any, branch: str, cn: str, members: list[str], kind: str = "groupOfNames") -> tuple[str, str]:
    dn = f"cn={cn},ou=groups,{branch}"
    ident = str(uuid.uuid4())
    attribute = "member" if kind == "groupOfNames" else "uniqueMember"
    add(
        conn,
        dn,
        {"objectClass": [kind], "cn": [cn], attribute: members or [NOBODY_MEMBER], "entryUUID": [ident]},
    )
    return dn, ident


def ou(conn: Any, parent: str, name: str) -> str:
    dn = f"ou={name},{parent}"
    add(conn, dn, {"objectClass": ["organizationalUnit"], "ou": [name]})
    return dn


def reader_settings(slapd: Slapd, branch: str, **extra: Any) -> LdapSettings:
    values: dict[str, Any] = {
        "urls": (slapd.url,),
        "bind_dn": READER_DN,
        "bind_password": READER_PASSWORD,
        "base_dns": (branch,),
        **extra,
    }
    return LdapSettings(**values)


def modify(conn: Any, dn: str, **attributes: str | list[str] | None) -> None:
    changes = [
        (
            ldap.MOD_REPLACE,
            k,
            None if v is None else [x.encode() for x in (v if isinstance(v, list) else [v])],
        )
        for k, v in attributes.items()
    ]
    conn.modify_s(dn, changes)


async def collect(reader: Any, cursor: str | None = None) -> tuple[list[Any], str | None, str]:
    """Every page of one round of `reader` from `cursor`: (pages, the new cursor, the round's kind)."""
    round_ = await reader.start_round(cursor, full=cursor is None)
    pages = [page async for page in round_.pages()]
    return pages, round_.cursor, round_.kind
