"""LDAP entries to Graph-shaped directory attributes (pure; okta-and-ldap.md §2.6).

Every attribute a user record carries is set: one the entry does not have is `None` (cleared),
since a read always returns the whole entry. The mapping, AD name first where they differ:

| directory attribute | LDAP attribute |
|---|---|
| `objectId` | the immutable id (`objectGUID` / `entryUUID`) |
| `userPrincipalName` | `userPrincipalName`, else the first `mail`, else `sAMAccountName@domain`, else `uid` |
| `mail` | the first `mail` |
| `mailNickname` | `sAMAccountName`, else `uid` |
| `givenName` / `surname` | `givenName` / `sn` |
| `displayName` | `displayName`, else `cn` |
| `jobTitle` | `title` |
| `department` | `department`, else the first `departmentNumber`, else `ou` of the entry |
| `companyName` | `company`, else `o` |
| `employeeId` | `employeeID`, else `employeeNumber` |
| `businessPhones` | every `telephoneNumber` |
| `mobilePhone` | `mobile` |
| `officeLocation`, `streetAddress` | `physicalDeliveryOfficeName`, `street` |
| `city`, `state`, `postalCode`, `country` | `l`, `st`, `postalCode`, `co` (else `c`) |
| `preferredLanguage` | `preferredLanguage` |
| `accountEnabled` | the dialect's rule |
| `onPremisesDistinguishedName` | the entry's DN |
| `onPremisesSamAccountName` | `sAMAccountName` (AD) |
| `organizationalUnitPath` | the OUs between the base DN and the entry, outermost first, `/`-joined |
| `extension_NAME` | the source's custom attributes (`attributes.NAME=ldapAttribute`, see `extensions`) |

An AD account's `sAMAccountName@domain` takes `upn_domain` as its domain, else the `DC=` parts
of the entry's DN (`login_of`).

Groups: `objectId`, `displayName` (`displayName`, else `cn`), `description`, `mail`,
`mailNickname` (`sAMAccountName`, else `cn`), `onPremisesDistinguishedName`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import ldap.dn

from enlist.provisioning.sources.ldap.dialect import Attributes
from enlist.provisioning.sources.ldap.extensions import Extensions, extension_values

USER_ATTRIBUTES = (
    "userPrincipalName",
    "mail",
    "uid",
    "sAMAccountName",
    "givenName",
    "sn",
    "displayName",
    "cn",
    "title",
    "department",
    "departmentNumber",
    "ou",
    "company",
    "o",
    "employeeID",
    "employeeNumber",
    "telephoneNumber",
    "mobile",
    "physicalDeliveryOfficeName",
    "street",
    "l",
    "st",
    "postalCode",
    "co",
    "c",
    "preferredLanguage",
    "manager",
)
GROUP_ATTRIBUTES = ("cn", "displayName", "description", "mail", "sAMAccountName")


Folded = dict[str, Sequence[bytes]]


def fold(attrs: Attributes) -> Folded:
    """The attributes by case-folded name (servers return their own spelling: `entryuuid`)."""
    return {name.casefold(): values for name, values in attrs.items()}


def _values(attrs: Folded, name: str) -> list[str]:
    return [v.decode("utf-8", "replace") for v in attrs.get(name.casefold()) or ()]


def first(attrs: Folded, *names: str) -> str | None:
    for name in names:
        values = attrs.get(name.casefold())
        if values:
            return values[0].decode("utf-8", "replace")
    return None


Rdn = tuple[tuple[str, str], ...]


def _rdns(dn: str) -> list[Rdn] | None:
    """The DN's RDNs, each as its (type, value) pairs case-folded; None when it does not parse."""
    try:
        return [
            tuple((kind.casefold(), value.casefold()) for kind, value, _ in rdn) for rdn in ldap.dn.str2dn(dn)
        ]
    except ldap.DECODING_ERROR:
        return None


@functools.lru_cache(maxsize=64)
def _bases(base_dns: tuple[str, ...]) -> tuple[list[Rdn], ...]:
    """The base DNs parsed once (a read maps every entry against the same few), longest first."""
    parsed = [p for p in (_rdns(base) for base in base_dns) if p]
    return tuple(sorted(parsed, key=len, reverse=True))


def ou_path(dn: str, base_dns: Sequence[str]) -> str | None:
    """The `ou` components between the longest matching base DN and the entry, outermost first."""
    try:
        parts = ldap.dn.str2dn(dn)
    except ldap.DECODING_ERROR:
        return None
    inside = parts[1:]
    folded = [tuple((kind.casefold(), value.casefold()) for kind, value, _ in rdn) for rdn in inside]
    for base in _bases(tuple(base_dns)):
        depth = len(base)
        if depth <= len(folded) and folded[len(folded) - depth :] == base:
            inside = inside[: len(inside) - depth]
            break
    names = [value for rdn in reversed(inside) for (kind, value, _) in rdn if kind.casefold() == "ou"]
    return "/".join(names) or None


def dns_domain(dn: str) -> str | None:
    """The DNS domain a DN's `DC=` parts name (`CN=x,OU=y,DC=corp,DC=example` -> corp.example)."""
    try:
        parts = ldap.dn.str2dn(dn)
    except ldap.DECODING_ERROR:
        return None
    labels = [value for rdn in parts for (kind, value, _) in rdn if kind.casefold() == "dc"]
    return ".".join(labels) or None


def login_of(dn: str, attrs: Folded, mail: str | None, upn_domain: str | None) -> str | None:
    """`userPrincipalName`, else `mail`, else AD's `sAMAccountName@domain`, else `uid`.

    An AD account may have neither UPN nor mail (made by an old script, a service account);
    AD still signs it in as `sAMAccountName@<DNS domain>` (the implicit UPN), so that is its
    login here too, with `upn_domain` for a login domain other than the AD DNS domain."""
    upn = first(attrs, "userPrincipalName") or mail
    if upn:
        return upn
    account = first(attrs, "sAMAccountName")
    domain = upn_domain or dns_domain(dn)
    if account and domain:
        return f"{account}@{domain}"
    return first(attrs, "uid")


def user_attributes(
    dn: str,
    entry_attrs: Attributes,
    source_id: str,
    *,
    enabled: bool,
    base_dns: Sequence[str],
    extensions: Extensions = (),
    upn_domain: str | None = None,
) -> dict[str, Any]:
    attrs = fold(entry_attrs)
    mail = first(attrs, "mail")
    phones = _values(attrs, "telephoneNumber")
    return {
        "objectId": source_id,
        "userPrincipalName": login_of(dn, attrs, mail, upn_domain),
        "mail": mail,
        "mailNickname": first(attrs, "sAMAccountName", "uid"),
        "givenName": first(attrs, "givenName"),
        "surname": first(attrs, "sn"),
        "displayName": first(attrs, "displayName", "cn"),
        "jobTitle": first(attrs, "title"),
        "department": first(attrs, "department", "departmentNumber", "ou"),
        "companyName": first(attrs, "company", "o"),
        "employeeId": first(attrs, "employeeID", "employeeNumber"),
        "businessPhones": phones,
        "mobilePhone": first(attrs, "mobile"),
        "officeLocation": first(attrs, "physicalDeliveryOfficeName"),
        "streetAddress": first(attrs, "street"),
        "city": first(attrs, "l"),
        "state": first(attrs, "st"),
        "postalCode": first(attrs, "postalCode"),
        "country": first(attrs, "co", "c"),
        "preferredLanguage": first(attrs, "preferredLanguage"),
        "accountEnabled": enabled,
        "onPremisesDistinguishedName": dn,
        "onPremisesSamAccountName": first(attrs, "sAMAccountName"),
        "organizationalUnitPath": ou_path(dn, base_dns),
        **extension_values(attrs, extensions),
    }


def group_attributes(dn: str, entry_attrs: Attributes, source_id: str) -> dict[str, Any]:
    attrs = fold(entry_attrs)
    return {
        "objectId": source_id,
        "displayName": first(attrs, "displayName", "cn"),
        "description": first(attrs, "description"),
        "mail": first(attrs, "mail"),
        "mailNickname": first(attrs, "sAMAccountName", "cn"),
        "onPremisesDistinguishedName": dn,
    }


def manager_dn(attrs: Attributes) -> str | None:
    values = attrs.get("manager")
    if values is None:
        values = fold(attrs).get("manager")
    return values[0].decode("utf-8", "replace") if values else None
