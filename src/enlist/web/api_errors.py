"""The one error shape of the services' JSON APIs: `{"error": {"code", "message", "hint"}}`.

`code` is a stable name for the kind of error (a script branches on it), `message` says what
went wrong and `hint` what to do about it. The provisioning API defined the shape
(`enlist.provisioning.api.errors`); the portal's API answers it too, through this module, so a
script that drives both services reads one shape.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

API_PREFIX = "/api/"

CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "TooLarge",
    422: "Unprocessable",
    429: "TooManyRequests",
    500: "InternalError",
    503: "Unavailable",
}
"""The code an answer carries when its route names none: one per status."""


def api_failure(
    status: int, code: str, message: str, hint: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """One refusal in the APIs' error shape."""
    body = {"error": {"code": code, "message": message, "hint": hint}}
    return JSONResponse(body, status_code=status, headers=headers)


def api_refusal(status: int, text: str, hint: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """`text` as an error of `status`; when `text` reads "what; what to do" (the token door's
    messages do), the part after the first "; " is the hint, else `hint`."""
    what, _, todo = text.partition("; ")
    return api_failure(status, CODES.get(status, "Error"), what, todo or hint, headers)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


# The shape above as OpenAPI describes it, for both services' descriptions.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "hint"],
            "properties": {
                "code": {"type": "string", "description": "A stable name for the kind of error."},
                "message": {"type": "string", "description": "What went wrong."},
                "hint": {"type": "string", "description": "What to do about it."},
            },
        }
    },
}
