"""The request id and the fields every log line of a request or cycle carries.

Stdlib only (no logging library), so the SCIM client, the sync log and the provisioning log can
read the current request id without slowing any command's start. The values live in
`contextvars`: each request (and each task it starts) sees its own; a scheduler's cycle binds its
own id with `bound`.

A request id given by a client (`X-Request-Id`) is kept only when it is *sane*: 1 to 128
characters of letters, digits and `-_.:`; anything else is replaced by a new id (uuid4 hex), so
no client can put a line break, a quote or a megabyte into a log line or a database column.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

MAX_REQUEST_ID_LENGTH = 128
_SANE = re.compile(rf"[A-Za-z0-9_.:\-]{{1,{MAX_REQUEST_ID_LENGTH}}}")

_request_id: ContextVar[str | None] = ContextVar("enlist_request_id", default=None)
_fields: ContextVar[Mapping[str, object]] = ContextVar("enlist_log_fields", default={})  # noqa: B039 (never mutated: replaced)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """`value` when it is a request id we may log and store as it is, else None."""
    if value is not None and _SANE.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    """The id of the request (or scheduled cycle) being served; None outside one."""
    return _request_id.get()


def current_fields() -> Mapping[str, object]:
    """The fields bound for every log line of the current request or cycle (`request_id` too)."""
    request_id = _request_id.get()
    fields = _fields.get()
    return {"request_id": request_id, **fields} if request_id else fields


@contextmanager
def bound(request_id: str | None = None, **fields: object) -> Iterator[str]:
    """Inside the block, `request_id` (a new one when None and none is bound) is the current
    request id, and `fields` are added to every log line; both are restored after it."""
    rid = request_id or _request_id.get() or new_request_id()
    id_token = _request_id.set(rid)
    fields_token = _fields.set({**_fields.get(), **fields}) if fields else None
    try:
        yield rid
    finally:
        if fields_token is not None:
            _fields.reset(fields_token)
        _request_id.reset(id_token)


def bind(**fields: object) -> None:
    """Add `fields` to the current context (until the enclosing `bound` block ends)."""
    _fields.set({**_fields.get(), **fields})
