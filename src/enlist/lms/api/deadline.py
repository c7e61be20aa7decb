"""A time limit on every SCIM request: past it the request is cancelled and answered 503.

Cancelling the handler unwinds its `Database.write()` block, which rolls the transaction back, so
a request that ran out of time has changed nothing. A 503 is what a SCIM client (Entra among
them) retries later, which is right for a request that was slow because the database was busy.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlist.lms.api.responses import scim_error_response
from enlist.scim.errors import ScimError

logger = logging.getLogger(__name__)
SCIM_PREFIX = "/scim/"


class RequestDeadline:
    """ASGI middleware: a request under `/scim/` still running after `seconds` gets a 503 SCIM
    error. Once the answer has started it is let finish (its body is already on its way)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(SCIM_PREFIX):
            await self.app(scope, receive, send)
            return
        deadline = asyncio.timeout(self.seconds)

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                deadline.reschedule(None)
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, send_tracked)
        except TimeoutError:
            if not deadline.expired():
                raise
            logger.warning(
                "SCIM request cancelled after %.1f s: %s %s", self.seconds, scope["method"], scope["path"]
            )
            detail = f"the request took longer than {self.seconds:g} s and was rolled back; retry it"
            await scim_error_response(ScimError(503, detail))(scope, receive, send)
