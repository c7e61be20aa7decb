"""A null SCIM target: answers the engine's requests correctly and stores nothing.

What S4 and S5 use to measure the engine alone, with no portal's write path in the way. A raw
asyncio protocol on uvloop (like `static.py`), HTTP/1.1 with keep-alive and `Content-Length`
bodies. Every request but `/healthz` and `/_counts` needs `Authorization: Bearer TOKEN`.

- `GET /Users?…`, `GET /Groups?…` (a filter query): an empty ListResponse, so every user and
  group is new to the target;
- `GET /Users/{id}`, `GET /Groups/{id}`: 404, a SCIM error (it keeps nothing);
- `POST /Users`, `POST /Groups`: 201 and the posted resource with a new `id`;
- `PATCH` and `DELETE` on a resource: 204;
- `GET /_counts`: the SCIM requests answered so far, by method (not part of SCIM).

Anything else is 400 (a malformed request, a chunked body), 401, 404 or 405. Run:
`python -m bench.apps.null_target PORT TOKEN`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import cast

import uvloop

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
EMPTY_LIST = json.dumps(
    {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}
)
MAX_HEAD = 16_384
MAX_BODY = 4_194_304
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized"}
REASONS |= {404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


class NullTarget:
    """The state shared by every connection: the token, the next id, the counts."""

    def __init__(self, token: str) -> None:
        self.authorization = f"Bearer {token}".encode()
        self.next_id = 0
        self.counts: Counter[str] = Counter()

    def answer(self, method: str, target: str, headers: dict[bytes, bytes], body: bytes) -> bytes:
        """The whole HTTP response to one request."""
        path, _, query = target.partition("?")
        if path == "/healthz" and method == "GET":
            return response(200, b'{"status":"ok"}')
        if path == "/_counts" and method == "GET":
            return response(200, json.dumps(dict(self.counts)).encode())
        if headers.get(b"authorization") != self.authorization:
            return error(401, "the bearer token is missing or wrong")
        parts = path.strip("/").split("/")
        if parts[0] not in ("Users", "Groups") or len(parts) > 2:
            return error(404, f"no resource at {path}")
        self.counts[method] += 1
        if len(parts) == 1:
            return self._collection(method, query, body)
        if method in ("PATCH", "DELETE"):
            return response(204, b"")
        if method == "GET":
            return error(404, f"{parts[0][:-1]} {parts[1]} not found")
        return error(405, f"{method} is not answered on a resource")

    def _collection(self, method: str, query: str, body: bytes) -> bytes:
        if method == "GET":
            if "filter=" not in query:
                return error(400, "only filter queries are answered", "invalidFilter")
            return response(200, EMPTY_LIST.encode())
        if method != "POST":
            return error(405, f"{method} is not answered on a collection")
        try:
            resource = json.loads(body)
        except ValueError:
            return error(400, "the body is not JSON", "invalidSyntax")
        if not isinstance(resource, dict):
            return error(400, "the body is not a JSON object", "invalidSyntax")
        self.next_id += 1
        resource["id"] = f"null-{self.next_id}"
        return response(201, json.dumps(resource).encode())


def response(status: int, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} {REASONS[status]}\r\n"
    if status != 204:
        head += f"Content-Type: application/scim+json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def error(status: int, detail: str, scim_type: str = "") -> bytes:
    document: dict[str, object] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        document["scimType"] = scim_type
    return response(status, json.dumps(document).encode())


class Connection(asyncio.Protocol):
    """One keep-alive connection: requests are answered in the order they arrive."""

    def __init__(self, target: NullTarget) -> None:
        self.target = target
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while (request := self._next_request()) is not None:
            out.append(request)
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def _next_request(self) -> bytes | None:
        """The answer to the next complete request in the buffer, which it consumes; None when
        the buffer holds no complete request. A malformed one is answered and closes the connection."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                return self._refuse(400, "the request head is too long")
            return None
        lines = self.buffer[:end].split(b"\r\n")
        try:
            method, target, _version = lines[0].decode("ascii").split(" ")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            return self._refuse(400, "malformed request")
        if b"transfer-encoding" in headers:
            return self._refuse(400, "chunked bodies are not answered; send Content-Length")
        if length > MAX_BODY:
            return self._refuse(413, "the body is too large")
        if len(self.buffer) < end + 4 + length:
            return None
        body = self.buffer[end + 4 : end + 4 + length]
        self.buffer = self.buffer[end + 4 + length :]
        return self.target.answer(method, target, headers, body)

    def _refuse(self, status: int, detail: str) -> bytes:
        self.buffer = b""
        if self.transport is not None:
            self.transport.write(error(status, detail))
            self.transport.close()
            self.transport = None
        return b""


async def serve(port: int, token: str) -> None:
    target = NullTarget(token)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(target), "127.0.0.1", port)
    print(f"null SCIM target on http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1]), sys.argv[2]))
