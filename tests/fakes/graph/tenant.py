"""The fake Graph tenant: users, groups, service principals, assignments, and the change log.

graph-source.md §8.1: objects are plain dicts of Graph properties; every change appends to an
append-only log with a monotonically increasing sequence number, which delta rounds read. The
test API (create/update/rename/disable/delete/restore/purge, memberships, managers,
assignments) is the only way tests change the tenant, so every change reaches delta.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

USER_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
)
USER_PROPERTIES = frozenset(
    {
        *USER_DEFAULT,
        "mailNickname",
        "department",
        "employeeId",
        "faxNumber",
        "streetAddress",
        "city",
        "state",
        "postalCode",
        "country",
        "accountEnabled",
        "userType",
        "createdDateTime",
        "companyName",
        "employeeType",
        "usageLocation",
    }
)
# §2.1: readable one at a time only; in a collection $select on them is 501, in delta 400.
USER_NOT_IN_COLLECTIONS = frozenset(
    {
        "aboutMe",
        "birthday",
        "hireDate",
        "interests",
        "mySite",
        "pastProjects",
        "preferredName",
        "responsibilities",
        "schools",
        "skills",
        "mailboxSettings",
    }
)
GROUP_DEFAULT = (
    "id",
    "displayName",
    "description",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
)
GROUP_PROPERTIES = frozenset(
    {*GROUP_DEFAULT, "membershipRule", "membershipRuleProcessingState", "createdDateTime", "visibility"}
)

ChangeWhat = Literal[
    "create", "update", "soft_delete", "restore", "purge", "manager", "member_add", "member_remove"
]


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    kind: Literal["user", "group"]
    object_id: str
    what: ChangeWhat
    properties: frozenset[str] = frozenset()
    member_id: str | None = None
    visible_at: float = 0.0


@dataclass
class ServicePrincipal:
    id: str
    app_id: str
    display_name: str
    assignments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class App:
    """An app registration that may ask for tokens: its secret, certificate and consented scopes."""

    client_id: str
    secret: str | None
    certificate_pem: bytes | None
    permissions: frozenset[str]


class Tenant:
    """The directory the fake serves. Not thread-safe: the fake runs in the test's event loop."""

    def __init__(self, tenant_id: str = "contoso.onmicrosoft.com") -> None:
        self.tenant_id = tenant_id
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.managers: dict[str, str] = {}
        self.members: dict[str, dict[str, Literal["user", "group"]]] = {}
        self.deleted_at: dict[str, float] = {}
        self.service_principals: dict[str, ServicePrincipal] = {}
        self.apps: dict[str, App] = {}
        self.log: list[Change] = []
        self.clock_offset = 0.0
        self.visibility_delay = 0.0
        self._seq = itertools.count(1)

    # -- clock ----------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        self.clock_offset += seconds

    @property
    def head(self) -> int:
        return self.log[-1].seq if self.log else 0

    def _record(self, kind: Literal["user", "group"], object_id: str, what: ChangeWhat, **kw: Any) -> None:
        self.log.append(
            Change(
                next(self._seq), kind, object_id, what, visible_at=self.now() + self.visibility_delay, **kw
            )
        )

    # -- apps -----------------------------------------------------------------------------

    def register_app(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        certificate_pem: bytes | None = None,
        permissions: frozenset[str] = frozenset(
            {"User.Read.All", "GroupMember.Read.All", "Application.Read.All"}
        ),
    ) -> App:
        app = App(client_id, secret, certificate_pem, permissions)
        self.apps[client_id] = app
        return app

    # -- users ----------------------------------------------------------------------------

    def create_user(self, upn: str, **properties: Any) -> str:
        user_id = properties.pop("id", None) or str(uuid.uuid4())
        nick = upn.split("@", 1)[0]
        self.users[user_id] = {
            "id": user_id,
            "userPrincipalName": upn,
            "displayName": nick,
            "mailNickname": nick,
            "mail": upn,
            "accountEnabled": True,
            "businessPhones": [],
            "userType": "Member",
            **properties,
        }
        self._record("user", user_id, "create")
        return user_id

    def update_user(self, user_id: str, **properties: Any) -> None:
        self.users[user_id].update(properties)
        self._record("user", user_id, "update", properties=frozenset(properties))

    def rename_user(self, user_id: str, upn: str) -> None:
        self.update_user(user_id, userPrincipalName=upn, mail=upn)

    def disable_user(self, user_id: str) -> None:
        self.update_user(user_id, accountEnabled=False)

    def delete_user(self, user_id: str) -> None:
        """Soft delete: to the recycle bin, restorable; memberships kept (§5.4)."""
        self.deleted_at[user_id] = self.now()
        self._record("user", user_id, "soft_delete")

    def restore_user(self, user_id: str) -> None:
        del self.deleted_at[user_id]
        self._record("user", user_id, "restore")

    def purge_user(self, user_id: str, *, drop_memberships_in_delta: bool = True) -> None:
        """Permanent delete. `drop_memberships_in_delta=False` is the OBS of §5.4: group delta
        never says the member left."""
        self.users.pop(user_id)
        self.deleted_at.pop(user_id, None)
        self.managers.pop(user_id, None)
        for report, manager in list(self.managers.items()):
            if manager == user_id:
                del self.managers[report]
        for group_id, members in self.members.items():
            if members.pop(user_id, None) is not None and drop_memberships_in_delta:
                self._record("group", group_id, "member_remove", member_id=user_id)
        self._record("user", user_id, "purge")

    def set_manager(self, user_id: str, manager_id: str | None) -> None:
        previous = self.managers.get(user_id)
        if manager_id is None:
            self.managers.pop(user_id, None)
        else:
            self.managers[user_id] = manager_id
        self._record("user", user_id, "manager", member_id=previous)

    def live_user(self, user_id: str) -> dict[str, Any] | None:
        if user_id in self.deleted_at:
            return None
        return self.users.get(user_id)

    # -- groups ---------------------------------------------------------------------------

    def create_group(self, name: str, *, unified: bool = False, **properties: Any) -> str:
        group_id = properties.pop("id", None) or str(uuid.uuid4())
        self.groups[group_id] = {
            "id": group_id,
            "displayName": name,
            "description": None,
            "groupTypes": ["Unified"] if unified else [],
            "mailEnabled": unified,
            "securityEnabled": True,
            "mailNickname": name.replace(" ", "-").lower(),
            "mail": None,
            **properties,
        }
        self.members[group_id] = {}
        self._record("group", group_id, "create")
        return group_id

    def update_group(self, group_id: str, **properties: Any) -> None:
        self.groups[group_id].update(properties)
        self._record("group", group_id, "update", properties=frozenset(properties))

    def delete_group(self, group_id: str) -> None:
        """Security groups are deleted permanently at once; Microsoft 365 groups soft (§2.4)."""
        if "Unified" in self.groups[group_id]["groupTypes"]:
            self.deleted_at[group_id] = self.now()
            self._record("group", group_id, "soft_delete")
        else:
            self.groups.pop(group_id)
            self.members.pop(group_id)
            self._record("group", group_id, "purge")

    def restore_group(self, group_id: str) -> None:
        del self.deleted_at[group_id]
        self._record("group", group_id, "restore")

    def add_member(self, group_id: str, member_id: str) -> None:
        kind: Literal["user", "group"] = "group" if member_id in self.groups else "user"
        self.members[group_id][member_id] = kind
        self._record("group", group_id, "member_add", member_id=member_id)

    def remove_member(self, group_id: str, member_id: str) -> None:
        del self.members[group_id][member_id]
        self._record("group", group_id, "member_remove", member_id=member_id)

    def live_group(self, group_id: str) -> dict[str, Any] | None:
        if group_id in self.deleted_at:
            return None
        return self.groups.get(group_id)

    # -- service principals and assignments ------------------------------------------------

    def create_service_principal(self, app_id: str, display_name: str) -> str:
        sp = ServicePrincipal(str(uuid.uuid4()), app_id, display_name)
        self.service_principals[sp.id] = sp
        return sp.id

    def assign(self, sp_id: str, principal_id: str) -> None:
        sp = self.service_principals[sp_id]
        is_group = principal_id in self.groups
        principal = self.groups[principal_id] if is_group else self.users[principal_id]
        sp.assignments.append(
            {
                "id": uuid.uuid4().hex + uuid.uuid4().hex[:11],
                "deletedDateTime": None,
                "appRoleId": "00000000-0000-0000-0000-000000000000",
                "createdDateTime": "2026-12-01T00:00:00Z",
                "principalDisplayName": principal.get("displayName"),
                "principalId": principal_id,
                "principalType": "Group" if is_group else "User",
                "resourceDisplayName": sp.display_name,
                "resourceId": sp.id,
            }
        )

    def unassign(self, sp_id: str, principal_id: str) -> None:
        sp = self.service_principals[sp_id]
        sp.assignments = [a for a in sp.assignments if a["principalId"] != principal_id]
