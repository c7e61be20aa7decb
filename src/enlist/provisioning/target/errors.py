"""What can go wrong talking to a SCIM target, in one taxonomy, named with Entra's error codes.

Every failure the client raises is a `TargetError` carrying the HTTP `status` (None when no
answer came), Entra's error `code` (entra-scim.md §6.3), a `reason` saying what happened (with
the target's own `detail` text) and a `recommendation` saying what the admin should do. The
subclass tells the engine what to do with it:

- `TransientError`: 5xx (but 501), 408, 429, timeouts, connection and protocol errors. The client
  retries it; when it still fails, the engine escrows the operation. `retry_after` is the wait the
  target asked for (`Retry-After`), in seconds.
- `CredentialsError`: 401/403. Every call will fail the same way: quarantine the job.
- `NotFoundError`: 404 on a resource (a linked object deleted in the application).
- `ConflictError`: 409, another resource holds a unique value.
- `RequestRejectedError`: any other 4xx, and 501. Retrying the same request cannot help.
- `IncompatibleError`: the target answered, but not with the SCIM the client needs (a 2xx body
  that is not the JSON expected, a list of the wrong shape, a created resource without `id`,
  resources a filter did not ask for, a redirect).

`classify` maps an answer or a transport exception to one of these, in one place.
`incompatible` builds the last kind for the client's own checks of 2xx bodies.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import httpx2
import orjson

from enlist.provisioning.target.wire import Answer

__all__ = [
    "MULTIPLE_ENTRIES",
    "SERVICE_INCOMPATIBLE",
    "ConflictError",
    "CredentialsError",
    "IncompatibleError",
    "NotFoundError",
    "RequestRejectedError",
    "TargetError",
    "TransientError",
    "classify",
    "incompatible",
    "parse_retry_after",
]

SERVICE_INCOMPATIBLE = "SystemForCrossDomainIdentityManagementServiceIncompatible"
MULTIPLE_ENTRIES = "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse"
_DETAIL_LIMIT = 300
_REDACTED = "[secret token]"


class TargetError(Exception):
    """A request to the target that failed; `str()` is `code: reason`."""

    def __init__(
        self,
        code: str,
        reason: str,
        recommendation: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {reason}")
        self.status = status
        self.code = code
        self.reason = reason
        self.recommendation = recommendation
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, status={self.status}, reason={self.reason!r})"


class TransientError(TargetError):
    """Worth trying again: the client retries it, the engine escrows it when retries run out."""


class CredentialsError(TargetError):
    """The Secret token was refused (401) or may not do this (403): quarantine the job."""


class NotFoundError(TargetError):
    """404: the resource (or the endpoint) does not exist."""


class ConflictError(TargetError):
    """409: another resource already holds a unique value."""


class RequestRejectedError(TargetError):
    """A 4xx (or 501) the same request will always get again."""


class IncompatibleError(TargetError):
    """The target answered, but not with the SCIM the client needs."""


def classify(
    outcome: httpx2.Response | Answer | httpx2.TransportError | TimeoutError,
    action: str,
    *,
    secret: str = "",
    timeout_s: float | None = None,
    now: datetime | None = None,
) -> TargetError:
    """The error for a non-2xx answer or a transport exception to `action` (`"PATCH /Users/1"`).

    `secret` is removed from every text taken from the answer or exception. `now` (UTC) reads a
    `Retry-After` given as an HTTP date; the current time by default.
    """
    if isinstance(outcome, httpx2.Response | Answer):
        return _from_response(outcome, action, now or datetime.now(UTC), secret)
    return _from_exception(outcome, action, timeout_s, secret)


def incompatible(action: str, what: str, *, code: str = SERVICE_INCOMPATIBLE) -> IncompatibleError:
    """The target answered `action` with something the client cannot use; `what` says what."""
    if code == MULTIPLE_ENTRIES:
        advice = (
            "The application must support filtering on the matching attribute and return only the "
            "resources the filter matches (and honour excludedAttributes=members for groups)."
        )
    else:
        advice = (
            "Check that the Tenant URL is the application's SCIM base URL (not a web page or a proxy), "
            "and that the application answers with SCIM JSON as RFC 7644 describes."
        )
    return IncompatibleError(code, f"{action}: {what}", advice)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After` in seconds (a number, or an HTTP date less `now`; never below 0); None if unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _from_response(
    response: httpx2.Response | Answer, action: str, now: datetime, secret: str
) -> TargetError:
    status = response.status_code
    said = f"{action} answered {status} {_phrase(status)}"
    detail = _detail(response, secret)
    reason = f"{said}: {detail}" if detail else said
    if status in (401, 403):
        code = "Unauthorized" if status == 401 else "InsufficientRights"
        return CredentialsError(code, reason, _CREDENTIALS[status], status=status)
    if status == 404:
        return NotFoundError("NotFound", reason, _NOT_FOUND, status=status)
    if status == 409:
        return ConflictError("EntryConflict", reason, _CONFLICT, status=status)
    if status in (408, 429) or (status >= 500 and status != 501):
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        code = {408: "Timeout", 429: "TooManyRequests", 504: "Timeout"}.get(status, "InternalServerError")
        return TransientError(code, reason, _TRANSIENT[code], status=status, retry_after=retry_after)
    if 400 <= status < 600:
        code = _REJECTED_CODES.get(status, "BadRequest")
        return RequestRejectedError(code, reason, _REJECTED[code], status=status)
    if 300 <= status < 400:
        location = response.headers.get("location")
        where = f" to {location}" if location else ""
        return IncompatibleError(
            SERVICE_INCOMPATIBLE,
            f"{said}, a redirect{where}",
            "Enter the final SCIM base URL as the Tenant URL: the client does not follow redirects.",
            status=status,
        )
    return IncompatibleError(
        SERVICE_INCOMPATIBLE, f"{said}, not a final answer", "Check the Tenant URL.", status=status
    )


def _from_exception(
    exc: httpx2.TransportError | TimeoutError, action: str, timeout_s: float | None, secret: str
) -> TargetError:
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        limit = f" within {timeout_s:g} s" if timeout_s is not None else ""
        return TransientError(
            "Timeout", f"{action}: the application did not answer{limit}", _TRANSIENT["Timeout"]
        )
    text = _clip(_redact(str(exc), secret)) or type(exc).__name__
    if isinstance(exc, httpx2.ConnectError):
        reason = f"{action}: could not connect ({text})"
    else:
        reason = f"{action}: the connection failed ({text})"
    return TransientError("WebExceptionProtocolError", reason, _TRANSIENT["WebExceptionProtocolError"])


def _detail(response: httpx2.Response | Answer, secret: str) -> str:
    """The target's own words: a SCIM error's `detail` (and `scimType`), else the start of the body."""
    content = response.content
    if not content:
        return ""
    try:
        body: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        detail = body.get("detail")
        scim_type = body.get("scimType")
        parts = [str(part) for part in (detail, f"(scimType {scim_type})" if scim_type else None) if part]
        if parts:
            return _clip(_redact(" ".join(parts), secret))
    return _clip(_redact(response.text, secret))


def _redact(text: str, secret: str) -> str:
    """`text` without the Secret token: a target may echo the request's headers in its error."""
    return text.replace(secret, _REDACTED) if secret else text


def _clip(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


_CREDENTIALS = {
    401: (
        "The application refused the Secret token: check it is the current token issued for this "
        "Tenant URL, pasted whole, not revoked or expired; then run Test connection."
    ),
    403: (
        "The application accepted the Secret token but refused the operation: check what the token "
        "(or the account it belongs to) may do, or a limit in the application such as a seat limit."
    ),
}
_NOT_FOUND = (
    "The resource no longer exists in the application (it was deleted there, or the Tenant URL "
    "changed). Restart provisioning to match the objects again."
)
_CONFLICT = (
    "Another user or group in the application already holds the same unique value (userName, "
    "externalId or displayName). Remove or rename it in the application, or change the matching "
    "attributes so the two are linked; the operation is retried in the next cycle."
)
_TRANSIENT = {
    "TooManyRequests": (
        "The application is throttling requests: it is retried automatically. If it persists, lower "
        "the maximum requests per second or the concurrency."
    ),
    "InternalServerError": (
        "The application failed to handle the request: it is retried automatically. If it persists, "
        "check the application's own logs or status."
    ),
    "Timeout": (
        "The application took too long to answer: it is retried automatically. If it persists, check "
        "the application's health, or raise the timeout."
    ),
    "WebExceptionProtocolError": (
        "Check the Tenant URL (scheme, host name, port), that this server can reach it (DNS, "
        "firewall, proxy) and its TLS certificate; the operation is retried automatically."
    ),
}
_REJECTED_CODES = {405: "MethodNotAllowed", 422: "UnprocessableEntity", 501: "NotImplemented"}
_REJECTED = {
    "BadRequest": (
        "The application rejected the values sent: read its detail above, then fix the attribute "
        "mappings or the source value."
    ),
    "UnprocessableEntity": (
        "The application could not process the values sent: read its detail above, then fix the "
        "attribute mappings or the source value."
    ),
    "MethodNotAllowed": (
        "The application does not support this operation on this endpoint: check it supports SCIM "
        "PATCH and DELETE, or remove the action from the provisioning configuration."
    ),
    "NotImplemented": (
        "The application does not implement this operation: remove it from the provisioning "
        "configuration or ask the application's vendor."
    ),
}
