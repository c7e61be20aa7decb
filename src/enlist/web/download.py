"""`Download`: a streamed export that stops as soon as its client goes away.

Starlette's `StreamingResponse` writes each record as it comes and, under uvicorn (ASGI spec
2.3), learns of a closed connection only when its disconnect listener gets a turn of the event
loop. Records of one database page come without such a turn, so every one of them was written
to a dead socket, each write logging `socket.send() raised exception.`: a cancelled download of
the provisioning logs flooded the terminal once per record.

`Download` instead packs records into chunks of about `CHUNK_BYTES`, yields the event loop after
each chunk (so the server sees the closed connection before the next write), watches for
`http.disconnect` and for a send that fails (OSError, ASGI spec 2.4), and on either stops pulling
records, closes the record source (releasing its database connection) and logs one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

logger = logging.getLogger("enlist.web.download")

CHUNK_BYTES = 64 * 1024


class Download(Response):
    """Stream `records` (encoded text or bytes, one item per record) as the response body."""

    def __init__(
        self,
        records: AsyncIterator[str] | AsyncIterator[bytes],
        *,
        media_type: str,
        headers: Mapping[str, str] | None = None,
        what: str = "download",
    ) -> None:
        self.records = records
        self.what = what
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        self.pulled = 0  # records taken from the source, for the log line (and the tests)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002 (ASGI)
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        chunks = self._chunks()
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            async for chunk in chunks:
                if gone.is_set():
                    break
                try:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except OSError:
                    gone.set()
                    break
                await asyncio.sleep(0)  # a turn for the server to notice a closed connection
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await chunks.aclose()
            await self._close_source()
        if gone.is_set():
            logger.warning("%s stopped after %d records: the client went away", self.what, self.pulled)

    async def _chunks(self) -> AsyncGenerator[bytes]:
        parts: list[bytes] = []
        size = 0
        async for record in self.records:
            self.pulled += 1
            part = record.encode(self.charset) if isinstance(record, str) else record
            parts.append(part)
            size += len(part)
            if size >= CHUNK_BYTES:
                yield b"".join(parts)
                parts, size = [], 0
        if parts:
            yield b"".join(parts)

    async def _close_source(self) -> None:
        close = getattr(self.records, "aclose", None)
        if close is not None:
            await close()
