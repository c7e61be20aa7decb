"""The SCIM error taxonomy: one exception type, mapped to an HTTP status and an RFC 7644 §3.12 body.

Every 4xx/5xx the SCIM endpoint answers is built from a `ScimError`, in exactly one place
(`to_body`). The provisioning service reads the same fields back from a target's answers.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    """A failed SCIM request: `status` is the HTTP status, `scim_type` the RFC 7644 detail code."""

    def __init__(
        self,
        status: int,
        detail: str,
        scim_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        """The `urn:ietf:params:scim:api:messages:2.0:Error` body; `status` is a string (RFC 7644)."""
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body

    def __repr__(self) -> str:
        return f"ScimError({self.status}, {self.detail!r}, scim_type={self.scim_type!r})"


def bad_request(detail: str, scim_type: str | None = None) -> ScimError:
    """400: the request is malformed (`invalidSyntax`, `invalidValue`, `invalidPath`, `invalidFilter`…)."""
    return ScimError(400, detail, scim_type)


def invalid_filter(detail: str) -> ScimError:
    """400 `invalidFilter`: a filter with bad syntax or an attribute we cannot filter on."""
    return ScimError(400, detail, "invalidFilter")


def invalid_value(detail: str) -> ScimError:
    """400 `invalidValue`: a required attribute is missing or a value has the wrong type."""
    return ScimError(400, detail, "invalidValue")


def invalid_syntax(detail: str) -> ScimError:
    """400 `invalidSyntax`: the body is not the JSON shape the operation needs."""
    return ScimError(400, detail, "invalidSyntax")


def invalid_path(detail: str) -> ScimError:
    """400 `invalidPath`: a PATCH path that is malformed or names no attribute."""
    return ScimError(400, detail, "invalidPath")


def no_target(detail: str) -> ScimError:
    """400 `noTarget`: a PATCH remove whose filter matched nothing it may remove."""
    return ScimError(400, detail, "noTarget")


def mutability(detail: str) -> ScimError:
    """400 `mutability`: an attempt to change a read-only or immutable attribute."""
    return ScimError(400, detail, "mutability")


def not_found(detail: str) -> ScimError:
    """404: no resource with that id in this tenant (or a path that is not an endpoint)."""
    return ScimError(404, detail)


def uniqueness(detail: str) -> ScimError:
    """409 `uniqueness`: another resource of the tenant already holds that unique value."""
    return ScimError(409, detail, "uniqueness")


def precondition_failed(detail: str) -> ScimError:
    """412: `If-Match` named a version the resource no longer has."""
    return ScimError(412, detail)


def unauthorized(
    detail: str = "A valid Secret token is required (Authorization: Bearer <token>).",
) -> ScimError:
    """401: missing, wrong, revoked or another tenant's Secret token."""
    return ScimError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="enlist"'})


def forbidden(detail: str) -> ScimError:
    """403: the request is understood but a tenant policy forbids it (for example the seat limit)."""
    return ScimError(403, detail)


def method_not_allowed(detail: str) -> ScimError:
    """405: the endpoint exists but does not take that method."""
    return ScimError(405, detail)


def payload_too_large(detail: str) -> ScimError:
    """413: the body is larger than the configured limit."""
    return ScimError(413, detail)


def unsupported_media_type(detail: str) -> ScimError:
    """415: a body that is not JSON."""
    return ScimError(415, detail)


def unavailable(detail: str, retry_after_s: int) -> ScimError:
    """503 with `Retry-After`: nothing was done; the same request may be sent again."""
    return ScimError(503, detail, headers={"Retry-After": str(retry_after_s)})


def too_many_requests(detail: str, retry_after_s: int) -> ScimError:
    """429 with `Retry-After`: the client must slow down."""
    return ScimError(429, detail, headers={"Retry-After": str(retry_after_s)})
