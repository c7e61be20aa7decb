"""The source object as Entra's mappings read it: Graph attributes plus Entra's own names.

Entra's default mappings name some attributes the way its directory connector does, not as
Graph does (`telephoneNumber`, not `businessPhones`). `user_source` and `group_source` give the
dict that `map_object`, `evaluate` and `in_scope` read: every Graph attribute as the directory
holds it, then, where the object does not already have them (compared case-insensitively):

| name | value |
| --- | --- |
| `objectId` | the object's id |
| `telephoneNumber` | the first of `businessPhones` |
| `mobile` | `mobilePhone` |
| `physicalDeliveryOfficeName` | `officeLocation` |
| `facsimileTelephoneNumber` | `faxNumber` |
| `manager` | the manager's source id (users) |
| `members` | the member users' source ids, sorted (groups) |
| `IsSoftDeleted` | always set: see below |

`IsSoftDeleted` is True when the object is out of scope (unassigned, or filtered out by scoping:
the caller says so with `in_scope`), soft-deleted, or, for a user, `accountEnabled` is False
(entra-scim.md §2.6). Reference values (`manager`, `members`) are source ids: the engine turns
them into target ids.
"""

from __future__ import annotations

from typing import Any

from enlist.provisioning.directory.model import SourceGroup, SourceUser
from enlist.provisioning.mapping.values import lookup

_USER_ALIASES = (
    ("mobile", "mobilePhone"),
    ("physicalDeliveryOfficeName", "officeLocation"),
    ("facsimileTelephoneNumber", "faxNumber"),
)


def user_source(user: SourceUser, *, in_scope: bool = True) -> dict[str, Any]:
    """The attributes Entra's user mappings read for `user` (see the module docstring)."""
    attributes = dict(user.attributes)
    _add(attributes, "objectId", user.id)
    phones = lookup(user.attributes, "businessPhones")
    if isinstance(phones, list | tuple) and phones:
        _add(attributes, "telephoneNumber", phones[0])
    for alias, graph_name in _USER_ALIASES:
        _add(attributes, alias, lookup(user.attributes, graph_name))
    if user.manager_id is not None:
        _add(attributes, "manager", user.manager_id)
    attributes["IsSoftDeleted"] = not in_scope or not user.enabled or user.soft_deleted
    return attributes


def group_source(group: SourceGroup, *, in_scope: bool = True) -> dict[str, Any]:
    """The attributes Entra's group mappings read for `group` (see the module docstring)."""
    attributes = dict(group.attributes)
    _add(attributes, "objectId", group.id)
    _add(attributes, "members", sorted(group.member_user_ids))
    attributes["IsSoftDeleted"] = not in_scope or group.deleted_at is not None
    return attributes


def _add(attributes: dict[str, Any], name: str, value: Any) -> None:
    """Set `name` unless it is already there in some case, or `value` is None."""
    if value is not None and lookup(attributes, name) is None:
        attributes[name] = value
