"""A static responder: answers every request with the same small JSON, as fast as Python can.

It measures the load client's own ceiling (`C0`): a raw asyncio protocol on uvloop, no
framework, no parsing beyond finding the end of each request. Requests must have no body.
Run: `python -m bench.apps.static PORT`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import cast

import uvloop

BODY = b'{"status":"ok"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class Static(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        ends = self.buffer.count(b"\r\n\r\n")
        if ends and self.transport is not None:
            self.buffer = self.buffer[self.buffer.rindex(b"\r\n\r\n") + 4 :]
            self.transport.write(RESPONSE * ends)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Static, "127.0.0.1", port)
    print(f"static responder on http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
