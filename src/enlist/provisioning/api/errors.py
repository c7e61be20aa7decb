"""The provisioning API's one error shape: `{"error": {"code", "message", "hint"}}`, the shape
`app sync --json` already prints. `message` says what went wrong, `hint` what to do about it."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from enlist.provisioning.engine.app_settings import SettingError
from enlist.provisioning.engine.runner import AppPausedError, CycleBusyError
from enlist.provisioning.store.apps import AppExistsError, UnknownAppError
from enlist.web.bad_input import bad_parameter, body_too_large
from enlist.web.params import storable


def api_failure(
    status: int, code: str, message: str, hint: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """One refusal in the API's error shape."""
    body = {"error": {"code": code, "message": message, "hint": hint}}
    return JSONResponse(body, status_code=status, headers=headers)


def no_such_app(name: str) -> JSONResponse:
    return api_failure(404, "UnknownApp", f"no application named {name!r}", "GET /api/v1/apps lists them")


def bad_body(message: str) -> JSONResponse:
    return api_failure(400, "BadRequest", message, "send a JSON object as described in /api/openapi.json")


def expected_failure(error: Exception) -> JSONResponse:
    """An error an admin caused and can fix (`operations.EXPECTED`), mapped to a status."""
    if isinstance(error, UnknownAppError):
        return api_failure(404, "UnknownApp", str(error), "GET /api/v1/apps lists them")
    if isinstance(error, AppExistsError):
        return api_failure(409, "AppExists", str(error), "choose another name")
    if isinstance(error, AppPausedError):
        return api_failure(409, "AppPaused", str(error), f"POST /api/v1/apps/{error.app_name}/start first")
    if isinstance(error, CycleBusyError):
        return api_failure(409, "CycleBusy", str(error), "retry when the running cycle ends")
    if isinstance(error, SettingError):
        return api_failure(
            400, "BadSetting", str(error), "GET /api/v1/apps/{name} shows the current settings"
        )
    if isinstance(error, LookupError):
        return api_failure(404, "NotFound", str(error), "check the name or id")
    return api_failure(400, "BadRequest", str(error), "fix the request and send it again")


# Every other refusal of an /api path, in the same shape. The pages keep their own answers.
API_PREFIX = "/api/"
_HTTP_CODES = {404: "NotFound", 405: "MethodNotAllowed"}
_HTTP_HINTS = {
    404: "GET /api/openapi.json lists every API route",
    405: "GET /api/openapi.json lists the methods of each route",
}


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404 (no route) and 405 (wrong method): the error shape under /api/, the
    framework's plain answer elsewhere."""
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith(API_PREFIX):  # as Starlette answers it without a handler
        if exc.status_code in {204, 304}:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    return api_failure(
        exc.status_code,
        _HTTP_CODES.get(exc.status_code, "HttpError"),
        f"{request.method} {request.url.path}: {exc.detail}",
        _HTTP_HINTS.get(exc.status_code, "see /api/openapi.json"),
        dict(exc.headers or {}),
    )


async def bad_parameter_error(request: Request, exc: Exception) -> Response:
    """A query parameter that cannot be used: the error shape under /api/."""
    if not request.url.path.startswith(API_PREFIX):
        return await bad_parameter(request, exc)
    return api_failure(400, "BadParameter", str(exc), "fix the query parameter and send it again")


async def too_large_error(request: Request, exc: Exception) -> Response:
    """A body over the limit: the error shape under /api/."""
    if not request.url.path.startswith(API_PREFIX):
        return await body_too_large(request, exc)
    return api_failure(413, "TooLarge", str(exc), "send less at once (ENLIST_MAX_BODY_BYTES sets the limit)")


def deadline_answer(detail: str) -> Response:
    """The request deadline's 503 under /api/ (`RequestDeadline`'s `answers`)."""
    return api_failure(503, "TooSlow", detail, "retry later; a long operation answers 202 and runs as a job")


class ApiUnstorablePaths:
    """ASGI middleware before `UnstorablePaths`: an /api path no database can store (NUL, a lone
    surrogate) is a 404 in the error shape; other paths go on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(API_PREFIX) and not storable(path):
            answer = api_failure(
                404,
                "NotFound",
                "no API route has this address: it holds a character no name can have",
                "GET /api/openapi.json lists every API route",
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)
