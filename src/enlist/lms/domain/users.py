"""Users as the portal sees them: statuses, the columns a SCIM document fills, the SCIM view.

The SCIM document (`enlist.scim.resource`) is what the client sent, canonicalised. The portal
keeps `active` and the enterprise `manager` out of it: the status column and the manager column
are the single truth for those, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from enlist.scim.errors import invalid_value
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID, USER_SCHEMA_ID

Status = Literal["active", "inactive", "terminated"]
STATUSES: tuple[Status, ...] = ("active", "inactive", "terminated")


@dataclass(frozen=True, slots=True)
class UserFields:
    """What a SCIM user document sets besides its document: the indexed and portal columns."""

    user_name: str
    external_id: str | None
    display_name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    job_title: str | None
    phone: str | None
    employee_number: str | None
    emails: tuple[tuple[str, str | None, bool], ...]

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "user_name",
        "user_name_ci",
        "external_id",
        "display_name",
        "display_name_ci",
        "given_name",
        "given_name_ci",
        "family_name",
        "family_name_ci",
        "email",
        "job_title",
        "phone",
        "employee_number",
    )

    def columns(self) -> dict[str, Any]:
        return {
            "user_name": self.user_name,
            "user_name_ci": self.user_name.casefold(),
            "external_id": self.external_id,
            "display_name": self.display_name,
            "display_name_ci": self.display_name.casefold() if self.display_name else None,
            "given_name": self.given_name,
            "given_name_ci": self.given_name.casefold() if self.given_name else None,
            "family_name": self.family_name,
            "family_name_ci": self.family_name.casefold() if self.family_name else None,
            "email": self.email,
            "job_title": self.job_title,
            "phone": self.phone,
            "employee_number": self.employee_number,
        }


@dataclass(frozen=True, slots=True)
class SplitUser:
    """A parsed SCIM user split into its stored document, fields, `active` and manager id
    (`active` None: the document has no value)."""

    doc: dict[str, Any]
    fields: UserFields
    active: bool | None
    manager_id: str | None


def split_user(doc: dict[str, Any]) -> SplitUser:
    """Take `active` and the manager out of a canonical user document and derive the columns."""
    body = dict(doc)
    # The portal signs people in through the identity provider: a provisioned password is
    # never stored (Entra never sends one; other clients may).
    body.pop("password", None)
    active = body.pop("active", None)
    manager_id: str | None = None
    enterprise = body.get(ENTERPRISE_USER_SCHEMA_ID)
    if isinstance(enterprise, dict) and "manager" in enterprise:
        enterprise = dict(enterprise)
        manager = enterprise.pop("manager")
        if isinstance(manager, dict) and manager.get("value"):
            manager_id = str(manager["value"])
        if enterprise:
            body[ENTERPRISE_USER_SCHEMA_ID] = enterprise
        else:
            del body[ENTERPRISE_USER_SCHEMA_ID]
    return SplitUser(body, user_fields(body), active if isinstance(active, bool) else None, manager_id)


def user_fields(doc: dict[str, Any]) -> UserFields:
    user_name = doc.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise invalid_value("userName is required and must be a non-empty string")
    name = _object(doc.get("name"))
    enterprise = _object(doc.get(ENTERPRISE_USER_SCHEMA_ID))
    emails = tuple(
        (str(e["value"]), e.get("type"), bool(e.get("primary", False)))
        for e in doc.get("emails", [])
        if isinstance(e, dict) and isinstance(e.get("value"), str)
    )
    return UserFields(
        user_name=user_name,
        external_id=_str(doc.get("externalId")),
        display_name=_str(doc.get("displayName")),
        given_name=_str(name.get("givenName")),
        family_name=_str(name.get("familyName")),
        email=_pick(doc.get("emails")),
        job_title=_str(doc.get("title")),
        phone=_pick(doc.get("phoneNumbers")),
        employee_number=_str(enterprise.get("employeeNumber")),
        emails=emails,
    )


def missing_required(doc: dict[str, Any], required: tuple[str, ...], has_manager: bool) -> str | None:
    """The first tenant-required profile field the document lacks, or None."""
    enterprise = doc.get(ENTERPRISE_USER_SCHEMA_ID) or {}
    present = {
        "email": bool(doc.get("emails")),
        "name.givenName": bool((doc.get("name") or {}).get("givenName")),
        "name.familyName": bool((doc.get("name") or {}).get("familyName")),
        "displayName": bool(doc.get("displayName")),
        "title": bool(doc.get("title")),
        "phoneNumbers": bool(doc.get("phoneNumbers")),
        "externalId": bool(doc.get("externalId")),
        "employeeNumber": bool(enterprise.get("employeeNumber")),
        "department": bool(enterprise.get("department")),
        "manager": has_manager,
    }
    for field in required:
        if not present.get(field, False):
            return field
    return None


def with_pending_manager(doc: dict[str, Any], reference: str) -> dict[str, Any]:
    """`doc` carrying a manager reference that names no user yet (ADR 0011), as it was sent.

    The stored document of a user never holds a resolved manager (that is the manager column),
    so a `manager` in it marks the reference in the manager column as pending.
    """
    enterprise = dict(doc.get(ENTERPRISE_USER_SCHEMA_ID) or {})
    enterprise["manager"] = {"value": reference}
    return {**doc, ENTERPRISE_USER_SCHEMA_ID: enterprise}


def pending_manager(doc: dict[str, Any]) -> str | None:
    """The pending manager reference the stored `doc` carries (`with_pending_manager`), if any."""
    enterprise = doc.get(ENTERPRISE_USER_SCHEMA_ID)
    manager = enterprise.get("manager") if isinstance(enterprise, dict) else None
    return str(manager["value"]) if isinstance(manager, dict) and manager.get("value") else None


def render_user(
    *,
    user_id: str,
    doc: dict[str, Any],
    status: str,
    manager_id: str | None,
    created_at: datetime,
    updated_at: datetime,
    version: int,
    base_url: str,
    groups: list[dict[str, Any]] | None = None,
    active_shown: bool = True,
) -> dict[str, Any]:
    """The full SCIM representation; `manager` is always the RFC's complex form. A pending
    manager reference (ADR 0011) comes back as it was sent, `{"value": ref}`, with no `$ref`:
    it points at no resource yet."""
    schemas = [USER_SCHEMA_ID]
    resource: dict[str, Any] = {"schemas": schemas, "id": user_id}
    resource.update(doc)
    if active_shown:
        resource["active"] = status == "active"
    extensions = [k for k in doc if k.startswith("urn:")]
    if manager_id and pending_manager(doc) is None:
        enterprise = dict(resource.get(ENTERPRISE_USER_SCHEMA_ID) or {})
        enterprise["manager"] = {"value": manager_id, "$ref": f"{base_url}/Users/{manager_id}"}
        resource[ENTERPRISE_USER_SCHEMA_ID] = enterprise
        if ENTERPRISE_USER_SCHEMA_ID not in extensions:
            extensions.append(ENTERPRISE_USER_SCHEMA_ID)
    schemas.extend(extensions)
    if groups:
        resource["groups"] = groups
    resource["meta"] = {
        "resourceType": "User",
        "created": _iso(created_at),
        "lastModified": _iso(updated_at),
        "location": f"{base_url}/Users/{user_id}",
        "version": etag(version),
    }
    return resource


def etag(version: int) -> str:
    return f'W/"{version}"'


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _pick(items: Any) -> str | None:
    """The primary entry's value, else the `work` one, else the first."""
    if not isinstance(items, list):
        return None
    entries = [i for i in items if isinstance(i, dict) and isinstance(i.get("value"), str)]
    for test in (lambda e: e.get("primary") is True, lambda e: e.get("type") == "work", lambda _e: True):
        for entry in entries:
            if test(entry):
                return str(entry["value"])
    return None
