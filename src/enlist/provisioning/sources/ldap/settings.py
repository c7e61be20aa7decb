"""What an LDAP source is configured with (read by the framework from its stored settings).

The bind password is a sealed secret (`bind_password`), never a plain setting, and is never
printed (`repr` hides it). TLS verification is on by default: `ldaps://` URLs and `start_tls`
check the server's certificate against `ca_file` (or the system's CAs) and its name;
`tls_verify = false` exists for a lab, and `source test` says it is off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from enlist.provisioning.sources.ldap.extensions import Extensions, from_stored

DeltaMode = Literal["auto", "syncrepl", "timestamp", "usn", "dirsync", "none"]
DIALECTS = ("auto", "ad", "openldap")
DELTA_MODES: tuple[DeltaMode, ...] = ("auto", "syncrepl", "timestamp", "usn", "dirsync", "none")
DEFAULT_USER_FILTER = "(|(objectClass=inetOrgPerson)(&(objectCategory=person)(objectClass=user)))"
DEFAULT_GROUP_FILTER = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"

# Keys `source set` may change for an LDAP source, with the type each value is read as.
KEYS: dict[str, type] = {
    "url": str,
    "bind_dn": str,
    "base_dn": str,
    "user_filter": str,
    "group_filter": str,
    "dialect": str,
    "delta": str,
    "page_size": int,
    "connect_timeout": float,
    "timeout": float,
    "ca_file": str,
    "start_tls": bool,
    "tls_verify": bool,
    "full_read_hours": float,
    "disabled_attribute": str,
    "upn_domain": str,
    "member_range": int,
    "delta_mode": str,  # the AD reference's name for `delta` (auto|usn|dirsync)
}


@dataclass(frozen=True, slots=True)
class LdapSettings:
    """An LDAP source.

    - `urls`: tried in order (the first that answers is used for the whole round).
    - `base_dns`: every user and group is read under one of them (subtree).
    - `dialect`: `ad`, `openldap`, or `auto` (from the root DSE at each round; `source test`
      shows what it found).
    - `delta`: how a delta round finds changes: `auto` (the best the server offers), or one
      mechanism by name; `none` reads everything every time.
    - `full_read_hours`: a delta round becomes a full read once the last full read is this old
      (0: never). It is how what no delta reports is found: deletions under timestamp polling
      (by a full read's set of ids, never by absence in a delta), and member values that
      OpenLDAP's refint/memberof rewrite without a new entryCSN (the group of a deleted user).
    - `disabled_attribute`: an OpenLDAP entry with this attribute is disabled (ppolicy's
      `pwdAccountLockedTime` by default; `nsAccountLock` for 389-DS/FreeIPA entries with TRUE).
    - `upn_domain`: the domain of the login an AD account without `userPrincipalName` and
      `mail` gets (`sAMAccountName@upn_domain`); unset, the DNS domain of the entry's own DN
      (its `DC=` parts), which is the implicit UPN AD itself accepts at sign-in.
    - `member_range`: AD, values of `member` asked for per request (0: whole, as the DC gives
      it; a Windows DC still stops at its MaxValRange and the rest is read range by range).
    - `attributes`: custom attributes read into directory extension attributes (`extensions`).
    """

    urls: tuple[str, ...]
    bind_dn: str
    bind_password: str
    base_dns: tuple[str, ...]
    user_filter: str = DEFAULT_USER_FILTER
    group_filter: str = DEFAULT_GROUP_FILTER
    dialect: str = "auto"
    delta: DeltaMode = "auto"
    page_size: int = 500
    connect_timeout: float = 10.0
    timeout: float = 60.0
    ca_file: str | None = None
    start_tls: bool = False
    tls_verify: bool = True
    full_read_hours: float = 24.0
    disabled_attribute: str = "pwdAccountLockedTime"
    upn_domain: str | None = None
    member_range: int = 0
    attributes: Extensions = ()

    def __post_init__(self) -> None:
        if not self.urls or not all(u.startswith(("ldap://", "ldaps://", "ldapi://")) for u in self.urls):
            raise ValueError("an LDAP source needs --url ldap://HOST[:PORT] or ldaps://HOST[:PORT]")
        if not self.base_dns:
            raise ValueError("an LDAP source needs --base-dn (where its users and groups are)")
        if self.dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not {self.dialect!r}")
        if self.delta not in DELTA_MODES:
            raise ValueError(f"delta must be one of {', '.join(DELTA_MODES)}, not {self.delta!r}")
        if not 1 <= self.page_size <= 100_000:
            raise ValueError("page_size must be between 1 and 100000")
        if self.connect_timeout <= 0 or self.timeout <= 0:
            raise ValueError("connect_timeout and timeout must be positive (seconds)")
        if self.start_tls and any(u.startswith("ldaps://") for u in self.urls):
            raise ValueError("start_tls is for ldap:// URLs; an ldaps:// URL is TLS already")
        if not 0 <= self.member_range <= 1_000_000:
            raise ValueError("member_range must be between 0 and 1000000 (0: the whole value)")
        if self.upn_domain is not None and not _DOMAIN.match(self.upn_domain):
            raise ValueError(f"upn_domain must be a DNS domain such as example.com, not {self.upn_domain!r}")

    def __repr__(self) -> str:  # the password is never printed
        return (
            f"LdapSettings(urls={self.urls!r}, bind_dn={self.bind_dn!r}, bind_password=<hidden>, "
            f"base_dns={self.base_dns!r}, dialect={self.dialect!r})"
        )

    @property
    def uses_tls(self) -> bool:
        return self.start_tls or any(u.startswith("ldaps://") for u in self.urls)


_DOMAIN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9][A-Za-z0-9-]{0,62})*$")


def _list(value: Any, separator: str) -> tuple[str, ...]:
    parts = value.split(separator) if isinstance(value, str) else list(value or ())
    return tuple(str(p).strip() for p in parts if str(p).strip())


def flag(value: Any) -> bool:
    if isinstance(value, str):
        if value.strip().casefold() not in {"true", "on", "yes", "1", "false", "off", "no", "0"}:
            raise ValueError(f"expected true or false, not {value!r}")
        return value.strip().casefold() in {"true", "on", "yes", "1"}
    return bool(value)


def settings_from_stored(stored: Mapping[str, Any], secrets: Mapping[str, str]) -> LdapSettings:
    """An LDAP source's settings from what `source add --kind ldap` and `source set` store:
    `url` (space-separated list), `base_dn` (`;`-separated list, as a DN holds commas), the
    password only from the opened, sealed secrets."""
    optional: dict[str, Any] = {}
    for key, kind in KEYS.items():
        value = stored.get(key)
        if key in {"url", "bind_dn", "base_dn"} or value in (None, ""):
            continue
        if key == "delta_mode":
            if stored.get("delta") in (None, ""):
                optional["delta"] = str(value)
            continue
        try:
            optional[key] = flag(value) if kind is bool else kind(value)
        except ValueError:
            raise ValueError(f"the LDAP setting {key} must be a {kind.__name__}, not {value!r}") from None
    return LdapSettings(
        urls=_list(stored.get("url"), " "),
        bind_dn=str(stored.get("bind_dn") or ""),
        bind_password=secrets.get("bind_password", ""),
        base_dns=_list(stored.get("base_dn"), ";"),
        attributes=from_stored(stored.get("attributes")),
        **optional,
    )
