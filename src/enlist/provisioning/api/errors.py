"""The provisioning API's one error shape: `{"error": {"code", "message", "hint"}}`, the shape
`app sync --json` already prints. `message` says what went wrong, `hint` what to do about it."""

from __future__ import annotations

from starlette.responses import JSONResponse

from enlist.provisioning.engine.app_settings import SettingError
from enlist.provisioning.engine.runner import AppPausedError, CycleBusyError
from enlist.provisioning.store.apps import AppExistsError, UnknownAppError


def api_failure(status: int, code: str, message: str, hint: str) -> JSONResponse:
    """One refusal in the API's error shape."""
    return JSONResponse({"error": {"code": code, "message": message, "hint": hint}}, status_code=status)


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
