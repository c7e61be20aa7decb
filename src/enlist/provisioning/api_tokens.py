"""The provisioning service's API tokens: their table and the door of its JSON API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from enlist.api_tokens.door import Door
from enlist.api_tokens.tables import define
from enlist.db.database import Database
from enlist.provisioning.store.metadata import metadata
from enlist.settings import Settings
from enlist.web.peppers import load_peppers
from enlist.web.tokens import Pepper

api_tokens = define(metadata)


def api_error(status: int, message: str) -> Response:
    """The provisioning API's error shape: `{"error": message}`."""
    headers = {"WWW-Authenticate": 'Bearer realm="enlist"'} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def door(settings: Settings) -> Door:
    """An admin session (the pages) or an API token of this service opens the API."""
    peppers = load_peppers(settings).known

    def runtime_of(request: Request) -> tuple[Database, dict[str, Pepper]]:
        return request.app.state.service.db, peppers

    return Door(
        service="provisioning",
        table=api_tokens,
        runtime_of=runtime_of,
        refuse=api_error,
        sessions_pass=True,
    )
