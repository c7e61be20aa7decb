"""The provisioning service's API tokens: their table and the door of its JSON API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enlist.api_tokens.tables import define
from enlist.provisioning.store.metadata import metadata

if TYPE_CHECKING:  # the table is all a CLI command needs; the door loads Starlette and the metrics
    from starlette.requests import Request
    from starlette.responses import Response

    from enlist.api_tokens.door import Door
    from enlist.db.database import Database
    from enlist.settings import Settings
    from enlist.web.tokens import Pepper

api_tokens = define(metadata)


def api_error(status: int, message: str) -> Response:
    """A refused API token in the provisioning API's one error shape
    (`{"error": {"code", "message", "hint"}}`, `enlist.provisioning.api.errors`): the door's
    message says what is wrong and, after "; ", what to do."""
    from starlette.responses import JSONResponse  # noqa: PLC0415 (see the imports)

    what, _, todo = message.partition("; ")
    if status == 403:
        code, hint = "InsufficientScope", todo or "use a token created with --scope write"
    else:
        code = "MissingToken" if what.startswith("send an API token") else "InvalidToken"
        hint = todo or "create one with `enlist provisioning api-token create NAME`"
    headers = {"WWW-Authenticate": 'Bearer realm="enlist"'} if status == 401 else None
    body = {"error": {"code": code, "message": what, "hint": hint}}
    return JSONResponse(body, status_code=status, headers=headers)


def door(settings: Settings) -> Door:
    """An admin session (the pages) or an API token of this service opens the API."""
    from enlist.api_tokens.door import Door  # noqa: PLC0415 (see the imports)
    from enlist.web.peppers import load_peppers  # noqa: PLC0415

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
