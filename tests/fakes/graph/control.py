"""Changes to a running fake's tenant, by name, for people: `python -m tests.fakes.graph change
OP ARGS…` posts `{"op", "args"}` to `POST /_fake/change` on the Graph port, and `apply` runs it
through the tenant's test API, so every change lands in the change log that delta rounds read.

Users are named by userPrincipalName (a deleted one too, to restore it), groups by displayName.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tests.fakes.graph.tenant import Tenant


class ChangeError(ValueError):
    """The change names something the tenant does not have, or has the wrong arguments."""


def _user(tenant: Tenant, upn: str) -> str:
    for user_id, user in tenant.users.items():
        if str(user["userPrincipalName"]).casefold() == upn.casefold():
            return user_id
    raise ChangeError(f"no user {upn} in the tenant")


def _group(tenant: Tenant, name: str) -> str:
    for group_id, group in tenant.groups.items():
        if str(group["displayName"]).casefold() == name.casefold():
            return group_id
    raise ChangeError(f"no group {name} in the tenant")


def _member(tenant: Tenant, name: str) -> str:
    return _user(tenant, name) if "@" in name else _group(tenant, name)


def _properties(pairs: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ChangeError(f"{pair!r} is not PROPERTY=VALUE")
        properties[key] = value or None
    return properties


def _create_user(tenant: Tenant, upn: str, *pairs: str) -> str:
    tenant.create_user(upn, **_properties(list(pairs)))
    return f"created {upn}"


def _update(tenant: Tenant, upn: str, *pairs: str) -> str:
    if not pairs:
        raise ChangeError("update needs PROPERTY=VALUE pairs")
    tenant.update_user(_user(tenant, upn), **_properties(list(pairs)))
    return f"updated {upn}: {', '.join(pairs)}"


def _rename(tenant: Tenant, upn: str, new: str) -> str:
    tenant.rename_user(_user(tenant, upn), new)
    return f"renamed {upn} to {new}"


def _manager(tenant: Tenant, upn: str, manager: str) -> str:
    none = manager.casefold() == "none"
    tenant.set_manager(_user(tenant, upn), None if none else _user(tenant, manager))
    return f"{upn} has no manager" if none else f"{upn} reports to {manager}"


def _membership(add: bool) -> Callable[..., str]:
    def change(tenant: Tenant, group: str, member: str) -> str:
        group_id, member_id = _group(tenant, group), _member(tenant, member)
        if add:
            tenant.add_member(group_id, member_id)
            return f"added {member} to {group}"
        if member_id not in tenant.members[group_id]:
            raise ChangeError(f"{member} is not a member of {group}")
        tenant.remove_member(group_id, member_id)
        return f"removed {member} from {group}"

    return change


def _user_action(name: str, action: Callable[[Tenant, str], None]) -> Callable[..., str]:
    def change(tenant: Tenant, upn: str) -> str:
        action(tenant, _user(tenant, upn))
        return f"{name} {upn}"

    return change


def _deleted_only(tenant: Tenant, user_id: str) -> None:
    if user_id not in tenant.deleted_at:
        raise ChangeError("only a deleted user can be restored")
    tenant.restore_user(user_id)


def _live_only(tenant: Tenant, user_id: str) -> None:
    if user_id in tenant.deleted_at:
        raise ChangeError("that user is deleted already")
    tenant.delete_user(user_id)


OPERATIONS: dict[str, tuple[str, Callable[..., str]]] = {
    "create-user": ("UPN [PROPERTY=VALUE…]", _create_user),
    "update": ("UPN PROPERTY=VALUE…", _update),
    "rename": ("UPN NEW_UPN", _rename),
    "disable": ("UPN", _user_action("disabled", lambda t, i: t.disable_user(i))),
    "enable": ("UPN", _user_action("enabled", lambda t, i: t.update_user(i, accountEnabled=True))),
    "delete": ("UPN (to the recycle bin: restorable)", _user_action("deleted", _live_only)),
    "restore": ("UPN", _user_action("restored", _deleted_only)),
    "purge": ("UPN (permanently)", _user_action("purged", lambda t, i: t.purge_user(i))),
    "manager": ("UPN MANAGER_UPN|none", _manager),
    "add-member": ("GROUP UPN|GROUP", _membership(add=True)),
    "remove-member": ("GROUP UPN|GROUP", _membership(add=False)),
}


def apply(tenant: Tenant, op: str, args: list[str]) -> str:
    """Run one change; what was done, in words. Raises `ChangeError` for a bad one."""
    if op not in OPERATIONS:
        raise ChangeError(f"unknown change {op!r}: one of {', '.join(OPERATIONS)}")
    usage, change = OPERATIONS[op]
    try:
        inspect.signature(change).bind(tenant, *args)
    except TypeError:
        raise ChangeError(f"usage: change {op} {usage}") from None
    return change(tenant, *args)


def describe(tenant: Tenant) -> dict[str, Any]:
    """The tenant as `GET /_fake/tenant` shows it: users (with state and manager) and groups."""
    upn = {i: u["userPrincipalName"] for i, u in tenant.users.items()}
    name = {i: g["displayName"] for i, g in tenant.groups.items()}
    return {
        "users": [
            {
                "userPrincipalName": upn[i],
                "accountEnabled": u["accountEnabled"],
                "deleted": i in tenant.deleted_at,
                "manager": upn.get(tenant.managers.get(i, "")),
            }
            for i, u in tenant.users.items()
        ],
        "groups": [
            {"displayName": name[g], "members": sorted(upn.get(m) or name[m] for m in tenant.members[g])}
            for g in tenant.groups
            if g not in tenant.deleted_at
        ],
    }
