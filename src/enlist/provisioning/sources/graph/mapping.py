"""Graph delta items to the records of `sources.model` (pure; graph-source.md §5.2-5.4).

- `{"id", "@removed": {"reason"}}` is a `Removal` with Graph's reason (`changed`: soft-deleted,
  restorable; `deleted`: gone).
- A user's attributes are the selected properties (`objectId` = `id`); a selected property the
  item does not carry was never set, so it is carried as `None` (cleared), except in an item
  that carries no property at all (only an annotation such as `manager@delta`), which says
  nothing about attributes.
- `manager@delta`: the entry without `@removed` is the manager; only removed entries, or an
  empty list, clear it. No `manager@delta`: no manager in a full round, unchanged in a delta.
- `members@delta`: users and groups (nesting kept); other member types (devices, contacts,
  service principals) are not directory objects of ours and are skipped. In a delta round
  entries with `@removed` are removals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enlist.provisioning.sources.model import UNCHANGED, GroupRecord, Removal, Unchanged, UserRecord

USER_PROPERTIES = (
    "userPrincipalName",
    "mail",
    "mailNickname",
    "givenName",
    "surname",
    "displayName",
    "jobTitle",
    "department",
    "employeeId",
    "mobilePhone",
    "businessPhones",
    "faxNumber",
    "officeLocation",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "preferredLanguage",
    "accountEnabled",
    "userType",
)
GROUP_PROPERTIES = (
    "displayName",
    "description",
    "mailNickname",
    "mail",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
)
USER_SELECT = ",".join(("id", *USER_PROPERTIES, "manager"))
GROUP_SELECT = ",".join(("id", *GROUP_PROPERTIES, "members"))
USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"


def removal(item: Mapping[str, Any], kind: str) -> Removal | None:
    removed = item.get("@removed")
    if removed is None:
        return None
    gone = str(removed.get("reason", "")).lower() == "deleted"
    return Removal("user" if kind == "user" else "group", str(item["id"]), "deleted" if gone else "changed")


def _attributes(item: Mapping[str, Any], properties: tuple[str, ...]) -> dict[str, Any]:
    if not any(p in item for p in properties):
        return {}
    attributes = {p: item.get(p) for p in properties}
    attributes["objectId"] = str(item["id"])
    return attributes


def _manager(item: Mapping[str, Any], *, full: bool) -> str | Unchanged | None:
    entries = item.get("manager@delta")
    if entries is None:
        return None if full else UNCHANGED
    for entry in entries:
        if "@removed" not in entry and entry.get("id"):
            return str(entry["id"])
    return None


def user_record(item: Mapping[str, Any], *, full: bool) -> UserRecord | Removal:
    gone = removal(item, "user")
    if gone is not None:
        return gone
    return UserRecord(str(item["id"]), _attributes(item, USER_PROPERTIES), _manager(item, full=full))


def group_record(item: Mapping[str, Any], *, full: bool) -> GroupRecord | Removal:
    gone = removal(item, "group")
    if gone is not None:
        return gone
    users: set[str] = set()
    groups: set[str] = set()
    removed: set[str] = set()
    for entry in item.get("members@delta") or ():
        member_id = str(entry.get("id", ""))
        kind = entry.get("@odata.type")
        if not member_id or kind not in {USER_TYPE, GROUP_TYPE}:
            continue
        if "@removed" in entry:
            removed.add(member_id)
        elif kind == USER_TYPE:
            users.add(member_id)
        else:
            groups.add(member_id)
    return GroupRecord(
        str(item["id"]),
        _attributes(item, GROUP_PROPERTIES),
        member_users=frozenset(users),
        member_groups=frozenset(groups),
        removed_members=frozenset(removed),
        members_complete=full,
    )


def merge_groups(first: GroupRecord, later: GroupRecord) -> GroupRecord:
    """One group repeated over pages with slices of `members@delta` (§5.4): one record."""
    return GroupRecord(
        first.source_id,
        later.attributes or first.attributes,
        member_users=first.member_users | later.member_users,
        member_groups=first.member_groups | later.member_groups,
        removed_members=(first.removed_members - later.member_users - later.member_groups)
        | later.removed_members,
        members_complete=first.members_complete and later.members_complete,
    )
