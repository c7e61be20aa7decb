"""Stored values are no longer than their columns say, on SQLite as on PostgreSQL.

PostgreSQL refuses a string longer than its `VARCHAR(n)` (and the request failed with a 500);
SQLite stores it whole, so a filter's substring match over it cost whatever the client chose to
store. A value longer than its column is a `400 invalidValue` naming the attribute and the limit,
before anything is written, on both databases (ADR 0012).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from enlist.lms.domain.users import UserFields
from enlist.lms.store.tables import departments, groups, user_emails, users
from enlist.scim.errors import invalid_value

# Column -> the SCIM attribute a client sent it as (a `_ci` copy is checked through its original).
ATTRIBUTES = {
    "user_name": "userName",
    "external_id": "externalId",
    "display_name": "displayName",
    "given_name": "name.givenName",
    "family_name": "name.familyName",
    "email": "emails.value",
    "job_title": "title",
    "phone": "phoneNumbers.value",
    "employee_number": "employeeNumber",
    "value_ci": "emails.value",
    "type": "emails.type",
    "name": "displayName",  # a department's, mirrored from its group
}


def check(table: sa.Table, values: Mapping[str, Any]) -> None:
    """Raise `invalidValue` for the first value longer than its column's declared length."""
    for name, value in values.items():
        if name not in ATTRIBUTES or not isinstance(value, str):
            continue
        length = getattr(table.c[name].type, "length", None)
        if length is not None and len(value) > length:
            raise invalid_value(f"{ATTRIBUTES[name]} is longer than {length} characters")


def check_user(fields: UserFields) -> None:
    check(users, fields.columns())
    emails: Iterable[tuple[str, str | None, bool]] = fields.emails or ()
    for value, kind, _primary in emails:
        check(user_emails, {"value_ci": value, "type": kind})


def check_group(doc: Mapping[str, Any]) -> None:
    check(groups, {"display_name": doc.get("displayName"), "external_id": doc.get("externalId")})
    check(departments, {"name": doc.get("displayName")})  # a group may become a department
