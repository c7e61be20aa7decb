"""The portal API's errors, in the one shape both services' APIs answer
(`enlist.web.api_errors`): every refusal on an /api path goes through here, the token door's
included, so a script reads `{"error": {"code", "message", "hint"}}` whatever went wrong."""

from __future__ import annotations

from starlette.responses import JSONResponse

from enlist.api_tokens.model import TokenError
from enlist.document_shape import DocumentError
from enlist.lms.domain.policy import PolicyError
from enlist.lms.domain.roles import RoleRuleError, UnknownRoleRuleError
from enlist.lms.domain.smart_groups import SmartGroupError, UnknownSmartGroupError
from enlist.lms.domain.tenants import TenantNameError
from enlist.lms.store import department_tree as tree_store
from enlist.lms.store import tenants as tenant_store
from enlist.scim.errors import ScimError
from enlist.web.api_errors import api_failure, api_refusal

TOKEN_HINT = (
    "create an API token with `enlist lms api-token create NAME`, sent as Authorization: Bearer <token>"  # noqa: S105 (a message)
)
LIST_TENANTS = "GET /api/v1/tenants lists them"


def refused(status: int, message: str) -> JSONResponse:
    """The token door's answer (`Door.refuse`): 401 or 403, the door's message split into what
    and what to do."""
    headers = {"WWW-Authenticate": 'Bearer realm="enlist"'} if status == 401 else None
    return api_refusal(status, message, TOKEN_HINT, headers)


def scim_failure(error: ScimError) -> JSONResponse:
    """A `ScimError` raised on the way (the Secret token check: 401, 429; a bad filter: 400)."""
    hint = {
        401: TOKEN_HINT,
        429: "wait for the time in Retry-After, then send a valid token",
    }.get(error.status, "fix the request and send it again")
    return api_refusal(error.status, error.detail, hint, error.headers or None)


def api_failure_of_status(status: int, message: str) -> JSONResponse:
    """An answer the app gives before any route (no route, no method, a bad parameter, the
    deadline, a failure): the status's code and a hint that fits it."""
    hint = {
        404: "GET /api/openapi.json lists every route",
        405: "GET /api/openapi.json lists the methods of every route",
        503: "retry shortly; the portal is busy",
        500: "retry; if it fails again, the portal's log has the cause",
        413: "send a smaller body",
    }.get(status, "fix the request and send it again")
    return api_refusal(status, message, hint)


def no_such_tenant(slug: str) -> JSONResponse:
    return api_failure(404, "UnknownTenant", f"no tenant has the slug {slug!r}", LIST_TENANTS)


def bad_body(message: str) -> JSONResponse:
    return api_failure(400, "BadRequest", message, "send a JSON object as described in /api/openapi.json")


def expected_failure(error: Exception) -> JSONResponse:
    """An error an admin caused and can fix (`operations.EXPECTED`), mapped to a status; its
    message is the one the CLI and the pages show."""
    if isinstance(error, tenant_store.UnknownTenantError):
        return api_failure(404, "UnknownTenant", str(error), LIST_TENANTS)
    if isinstance(error, tenant_store.TenantExistsError):
        return api_failure(409, "TenantExists", str(error), "choose another name")
    if isinstance(error, TenantNameError):
        return api_failure(400, "BadTenantName", str(error), "use letters, digits and '-' in the name")
    if isinstance(error, PolicyError):
        return api_failure(
            400, "BadPolicy", str(error), "GET /api/v1/tenants/{tenant}/policies shows every policy and value"
        )
    if isinstance(error, tree_store.DepartmentError):
        return api_failure(
            400,
            "BadDepartment",
            str(error),
            "GET /api/v1/tenants/{tenant}/departments shows the tree and ids",
        )
    if isinstance(error, DocumentError):
        return api_failure(
            400, "BadDocument", str(error), "nothing was changed; fix the key named and send it again"
        )
    if isinstance(error, UnknownRoleRuleError | UnknownSmartGroupError):
        return api_failure(404, "NotFound", str(error), "GET role-rules or smart-groups lists them")
    if isinstance(error, RoleRuleError | SmartGroupError):
        return api_failure(400, "BadRule", str(error), "fix the value named and send it again")
    if isinstance(error, TokenError):
        return api_failure(400, "BadToken", str(error), "GET the api-tokens route of the realm lists them")
    return api_failure(400, "BadRequest", str(error), "fix the request and send it again")
