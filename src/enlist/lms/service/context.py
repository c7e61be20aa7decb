"""What every SCIM operation gets: the database, the tenant, where its resources live, the log."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.database import Database
from enlist.lms.domain.tenants import Tenant
from enlist.lms.domain.users import etag
from enlist.lms.store.synclog import SyncEntry
from enlist.scim.errors import precondition_failed, uniqueness

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Request:
    db: Database
    tenant: Tenant
    base_url: str
    entry: SyncEntry


def check_if_match(if_match: str | None, version: int) -> None:
    """412 unless `If-Match` is `*` or lists the current version (RFC 9110 §13.1.1).

    The header is a comma-separated list of entity-tags (several header lines arrive joined);
    tags compare weakly, so `W/"3"` and `"3"` both name version 3 (SCIM's ETags are weak).
    """
    if if_match is None:
        return
    current = etag(version).removeprefix("W/")
    if if_match.strip() == "*" or current in (
        tag.removeprefix("W/") for tag in _ENTITY_TAG.findall(if_match)
    ):
        return
    raise precondition_failed(f"If-Match {if_match} does not match the current version {etag(version)}")


# An entity-tag: an optional weak marker, then an opaque quoted string (which may hold commas).
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')


async def transaction(req: Request, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run one SCIM write; a constraint the database caught (a race two requests ran) is a 409."""
    try:
        return await req.db.transaction(work)
    except IntegrityError:
        raise uniqueness("another request changed the same resource at the same time; retry") from None
