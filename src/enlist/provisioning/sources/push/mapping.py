"""SCIM resources to the directory's Graph-shaped attributes and back (pure).

The inverse of Entra's default attribute mappings (`enlist.provisioning.mapping.mappings`), so
that a pushed user reaches every target through those same default mappings unchanged:
`userName` is `userPrincipalName`, `title` is `jobTitle`, the work email is `mail`, `externalId`
is `mailNickname`, the enterprise `employeeNumber` is `employeeId`, `active` is
`accountEnabled`, and so on (`CORE`, `ENTERPRISE_ATTRIBUTES`). The enterprise `manager` is the
record's manager (a pushed user's id). Every other attribute of an extension schema (the
enterprise `costCenter`, an HR system's `urn:…:csv:1.0:User:HireDate`) is kept under its full
attribute notation (`urn:…:User:HireDate`), which mapping expressions can read as
`[urn:…:User:HireDate]`. Core attributes without a Graph counterpart (`nickName`, `locale`,
`password`…) are not kept: Graph has nowhere to hold them (ADR 0020).

`user_attributes` returns only what the document carries; the caller clears what a
whole-resource write (POST, PUT) no longer carries. `user_resource` renders what
`user_attributes` accepted back as SCIM: `user_resource(user_attributes(d))` carries every
attribute of `d` that the directory keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA_ID, USER_SCHEMA_ID

# (SCIM path, Graph attribute); a path `emails.work` is the value of the emails item of that type.
CORE: tuple[tuple[str, str], ...] = (
    ("userName", "userPrincipalName"),
    ("displayName", "displayName"),
    ("title", "jobTitle"),
    ("preferredLanguage", "preferredLanguage"),
    ("userType", "userType"),
    ("externalId", "mailNickname"),
    ("name.givenName", "givenName"),
    ("name.familyName", "surname"),
    ("emails.work", "mail"),
    ("phoneNumbers.work", "telephoneNumber"),
    ("phoneNumbers.mobile", "mobile"),
    ("phoneNumbers.fax", "facsimileTelephoneNumber"),
    ("addresses.formatted", "physicalDeliveryOfficeName"),
    ("addresses.streetAddress", "streetAddress"),
    ("addresses.locality", "city"),
    ("addresses.region", "state"),
    ("addresses.postalCode", "postalCode"),
    ("addresses.country", "country"),
)
ENTERPRISE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("employeeNumber", "employeeId"),
    ("department", "department"),
    ("organization", "companyName"),
)
GRAPH_USER_KEYS = (
    frozenset(g for _, g in CORE) | frozenset(g for _, g in ENTERPRISE_ATTRIBUTES) | {"accountEnabled"}
)
ACTIVE = "accountEnabled"


def _typed(items: object, wanted: str) -> dict[str, Any] | None:
    """The item of a multi-valued attribute with `type` `wanted`; for `work`, else the primary
    one, else the first (a client that sends one untyped email means its work email)."""
    if not isinstance(items, list):
        return None
    dicts = [i for i in items if isinstance(i, dict)]
    for item in dicts:
        if str(item.get("type", "")).lower() == wanted:
            return item
    if wanted != "work":
        return None
    untyped = [i for i in dicts if not i.get("type")]
    for item in dicts:
        if item.get("primary") is True:
            return item
    return untyped[0] if untyped else None


def _read(doc: Mapping[str, Any], path: str) -> Any:
    head, _, tail = path.partition(".")
    if head == "name":
        name = doc.get("name")
        return name.get(tail) if isinstance(name, dict) else None
    if head in ("emails", "phoneNumbers"):
        item = _typed(doc.get(head), tail)
        return item.get("value") if item else None
    if head == "addresses":
        item = _typed(doc.get(head), "work")
        return item.get(tail) if item else None
    return doc.get(head)


def user_attributes(doc: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The Graph-shaped attributes of a canonical SCIM user (`enlist.scim.resource.parse_user`)
    and its manager's id (None when it has none)."""
    attributes: dict[str, Any] = {}
    for urn, value in doc.items():
        if urn.startswith("urn:") and isinstance(value, dict):
            for name, item in value.items():
                if item is not None and (urn != ENTERPRISE_USER_SCHEMA_ID or name != "manager"):
                    attributes[f"{urn}:{name}"] = item
    for path, graph in CORE:
        value = _read(doc, path)
        if value is not None:
            attributes[graph] = value
    enterprise = doc.get(ENTERPRISE_USER_SCHEMA_ID) or {}
    for name, graph in ENTERPRISE_ATTRIBUTES:
        attributes.pop(f"{ENTERPRISE_USER_SCHEMA_ID}:{name}", None)
        if enterprise.get(name) is not None:
            attributes[graph] = enterprise[name]
    attributes[ACTIVE] = doc.get("active", True) is not False
    manager = enterprise.get("manager")
    manager_id = manager.get("value") if isinstance(manager, dict) else None
    return attributes, (str(manager_id) if manager_id else None)


def _put(resource: dict[str, Any], path: str, value: Any) -> None:
    head, _, tail = path.partition(".")
    if head == "name":
        resource.setdefault("name", {})[tail] = value
    elif head in ("emails", "phoneNumbers"):
        item = {"value": value, "type": tail}
        if head == "emails":
            item["primary"] = True
        resource.setdefault(head, []).append(item)
    elif head == "addresses":
        if not resource.get("addresses"):
            resource["addresses"] = [{"type": "work", "primary": True}]
        resource["addresses"][0][tail] = value
    else:
        resource[head] = value


def user_resource(
    resource_id: str,
    attributes: Mapping[str, Any],
    manager_id: str | None,
    base_url: str,
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """The SCIM User of a pushed user: `resource_id` is its push id, `manager_id` its manager's."""
    resource: dict[str, Any] = {"schemas": [USER_SCHEMA_ID], "id": resource_id}
    for path, graph in CORE:
        if attributes.get(graph) is not None:
            _put(resource, path, attributes[graph])
    resource["active"] = attributes.get(ACTIVE, True) is not False
    extensions: dict[str, dict[str, Any]] = {}
    for key, value in attributes.items():
        if key.startswith("urn:") and ":" in key:
            urn, _, name = key.rpartition(":")
            extensions.setdefault(urn, {})[name] = value
    enterprise = extensions.setdefault(ENTERPRISE_USER_SCHEMA_ID, {})
    for name, graph in ENTERPRISE_ATTRIBUTES:
        if attributes.get(graph) is not None:
            enterprise[name] = attributes[graph]
    if manager_id:
        enterprise["manager"] = {"value": manager_id, "$ref": f"{base_url}/Users/{manager_id}"}
    for urn, value in sorted(extensions.items()):
        if value:
            resource[urn] = value
            resource["schemas"].append(urn)
    resource["meta"] = {"resourceType": "User", "location": f"{base_url}/Users/{resource_id}", **meta}
    return resource


def group_attributes(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical SCIM group's Graph-shaped attributes (`externalId` is `mailNickname`)."""
    attributes: dict[str, Any] = {"displayName": doc.get("displayName")}
    if doc.get("externalId") is not None:
        attributes["mailNickname"] = doc["externalId"]
    for urn, value in doc.items():
        if urn.startswith("urn:") and isinstance(value, dict):
            attributes.update({f"{urn}:{k}": v for k, v in value.items() if v is not None})
    return attributes


def group_resource(
    resource_id: str,
    attributes: Mapping[str, Any],
    members: list[tuple[str, str, str]],
    base_url: str,
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """The SCIM Group; `members` are (push id, display, `User` | `Group`)."""
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA_ID],
        "id": resource_id,
        "displayName": attributes.get("displayName"),
    }
    if attributes.get("mailNickname") is not None:
        resource["externalId"] = attributes["mailNickname"]
    for key, value in attributes.items():
        if key.startswith("urn:"):
            urn, _, name = key.rpartition(":")
            resource.setdefault(urn, {})[name] = value
    resource["members"] = [
        {"value": mid, "display": display, "type": kind, "$ref": f"{base_url}/{kind}s/{mid}"}
        for mid, display, kind in members
    ]
    resource["meta"] = {"resourceType": "Group", "location": f"{base_url}/Groups/{resource_id}", **meta}
    return resource
