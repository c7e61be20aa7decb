"""`WireTransport` against real sockets: small asyncio servers on loopback that answer on cue.

A `LoopbackServer` reads HTTP/1.1 requests (the head, then the body), records them
connection by connection, and answers each with the exact bytes its `answer` function returns;
then it keeps the connection, closes it, or waits until the client hangs up. Nothing of the
transport is mocked: what is asserted is what went over the socket, and what came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import httpx2
import orjson
import pytest

from enlist.provisioning import operations
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.target.client import ScimTarget
from enlist.provisioning.target.errors import TransientError
from enlist.provisioning.target.headers import UnsafeHeaderError
from enlist.provisioning.target.wire import MAX_BODY_BYTES, WireTransport, default_transport

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SECRET = "wire-test-secret-token"


# -- a loopback HTTP/1.1 server ------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request as it arrived: request line, headers (names lower-cased), body."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """The bytes to write, then: keep the connection, close it, or wait until the client closes it."""

    data: bytes
    then: Literal["keep", "close", "hang"] = "keep"


@dataclass
class Connection:
    requests: list[Seen] = field(default_factory=list)
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)  # the client closed it


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 (a free port) answering each request with `answer(request)`."""

    def __init__(self, answer: Callable[[Seen], Reply]) -> None:
        self.answer = answer
        self.connections: list[Connection] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    def url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.port}{target}"

    @property
    def requests_per_connection(self) -> list[int]:
        return [len(connection.requests) for connection in self.connections]

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:  # ends every handler still reading or hanging
            writer.transport.abort()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)
        self._writers.append(writer)
        connection = Connection()
        self.connections.append(connection)
        try:
            while (request := await read_request(reader)) is not None:
                connection.requests.append(request)
                reply = self.answer(request)
                writer.write(reply.data)
                await writer.drain()
                if reply.then == "close":
                    return
                if reply.then == "hang":
                    await reader.read()  # whatever comes, until the client closes
                    break
            connection.hung_up.set()
        except (ConnectionError, asyncio.IncompleteReadError):
            connection.hung_up.set()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> Seen | None:
    """The next request on the connection; None when the client closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, version = request_line.split(" ")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers and headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")  # the blank line after the last chunk (no trailers)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Seen(method, target, version, headers, body)


def raw(status: str, *headers: str, body: bytes = b"") -> bytes:
    """An answer exactly as given: no header is added."""
    return "\r\n".join([f"HTTP/1.1 {status}", *headers, "", ""]).encode("latin-1") + body


def sized(status: str, body: bytes, *headers: str) -> bytes:
    """An answer with its `Content-Length`."""
    return raw(status, f"Content-Length: {len(body)}", *headers, body=body)


def always(data: bytes, then: Literal["keep", "close", "hang"] = "keep") -> Callable[[Seen], Reply]:
    return lambda _request: Reply(data, then)


async def fetch(
    transport: httpx2.AsyncBaseTransport, method: str, url: str, content: bytes | None = None
) -> httpx2.Response:
    """One exchange, read and closed, as `ScimTarget` does it."""
    response = await transport.handle_async_request(httpx2.Request(method, url, content=content))
    await response.aread()
    await response.aclose()
    return response


def unused_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def hung_up(connection: Connection) -> bool:
    """Whether the client closes `connection` within a second."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1):
            await connection.hung_up.wait()
    return connection.hung_up.is_set()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable at all, whatever the machine running the tests has set."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)  # makes urllib ignore HTTP_PROXY


# -- keep-alive and what is sent ------------------------------------------------------------------


async def test_sequential_requests_reuse_one_connection() -> None:
    def numbered(request: Seen) -> Reply:
        n = int(request.target.rsplit("/", 1)[1])
        status = "200 OK" if n % 2 == 0 else "404 Not Found"
        return Reply(sized(status, f"answer {n}".encode()))

    async with LoopbackServer(numbered) as server, WireTransport() as transport:
        responses = [await fetch(transport, "GET", server.url(f"/scim/Users/{n}")) for n in range(20)]
        assert transport.connections_opened == 1
    assert [r.status_code for r in responses] == [200 if n % 2 == 0 else 404 for n in range(20)]
    assert [r.content for r in responses] == [f"answer {n}".encode() for n in range(20)]
    assert server.requests_per_connection == [20]
    assert [seen.target for seen in server.connections[0].requests] == [f"/scim/Users/{n}" for n in range(20)]


async def test_the_request_line_headers_and_body_arrive_as_given() -> None:
    query = "/scim/Users?aadOptscim062020&filter=userName+eq+%22a%22"
    payload = bytes(range(256)) * 4 + b"\r\n\r\nnot a new request"
    async with LoopbackServer(always(sized("200 OK", b"ok"))) as server, WireTransport() as transport:
        await fetch(transport, "GET", server.url(query))
        await fetch(transport, "POST", server.url("/scim/Users"), content=payload)
    get, post = server.connections[0].requests
    assert (get.method, get.target, get.version) == ("GET", query, "HTTP/1.1")
    assert get.headers["host"] == f"127.0.0.1:{server.port}"
    assert get.body == b""
    assert (post.method, post.target) == ("POST", "/scim/Users")
    assert post.headers["content-length"] == str(len(payload))
    assert post.body == payload
    assert server.requests_per_connection == [2]


# -- how an answer's end is found ------------------------------------------------------------------


async def test_a_chunked_answer_is_decoded_and_the_connection_kept() -> None:
    chunked = raw(
        "200 OK",
        "Transfer-Encoding: chunked",
        body=b"5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Checksum: abc\r\n\r\n",
    )
    replies = iter([chunked, sized("200 OK", b"second")])
    async with LoopbackServer(lambda _: Reply(next(replies))) as server, WireTransport() as transport:
        first = await fetch(transport, "GET", server.url("/chunked"))
        second = await fetch(transport, "GET", server.url("/after"))
        assert transport.connections_opened == 1
    assert first.status_code == 200
    assert first.content == b"hello, world!!!"
    assert second.content == b"second"
    assert server.requests_per_connection == [2]


async def test_a_204_has_no_body_and_the_next_answer_follows_on_the_same_connection() -> None:
    replies = iter([raw("204 No Content"), sized("200 OK", b"next")])
    async with LoopbackServer(lambda _: Reply(next(replies))) as server, WireTransport() as transport:
        async with asyncio.timeout(2):  # a transport waiting for a body would time out here
            empty = await fetch(transport, "DELETE", server.url("/scim/Users/1"))
            following = await fetch(transport, "GET", server.url("/scim/Users/2"))
        assert transport.connections_opened == 1
    assert (empty.status_code, empty.content) == (204, b"")
    assert (following.status_code, following.content) == (200, b"next")


async def test_an_interim_100_continue_is_skipped() -> None:
    reply = raw("100 Continue") + sized("201 Created", b"made")
    async with LoopbackServer(always(reply)) as server, WireTransport() as transport:
        response = await fetch(transport, "POST", server.url("/scim/Users"), content=b"{}")
    assert (response.status_code, response.content) == (201, b"made")


async def test_an_answer_with_connection_close_is_not_reused() -> None:
    replies = iter([sized("200 OK", b"bye", "Connection: close"), sized("200 OK", b"hello again")])
    async with LoopbackServer(lambda _: Reply(next(replies))) as server, WireTransport() as transport:
        first = await fetch(transport, "GET", server.url("/one"))
        assert await hung_up(server.connections[0])  # the client closed it, as it said it would
        second = await fetch(transport, "GET", server.url("/two"))
        assert transport.connections_opened == 2
    assert (first.content, second.content) == (b"bye", b"hello again")
    assert server.requests_per_connection == [1, 1]


async def test_an_answer_without_length_is_read_until_the_server_closes() -> None:
    body = b"0123456789" * 20_000  # more than one read's worth
    replies = iter(
        [
            Reply(raw("200 OK", "Content-Type: text/plain", body=body), "close"),
            Reply(sized("200 OK", b"fresh")),
        ]
    )
    async with LoopbackServer(lambda _: next(replies)) as server, WireTransport() as transport:
        first = await fetch(transport, "GET", server.url("/stream"))
        second = await fetch(transport, "GET", server.url("/next"))
        assert transport.connections_opened == 2
    assert first.content == body
    assert second.content == b"fresh"
    assert server.requests_per_connection == [1, 1]


# -- connections that die ---------------------------------------------------------------------------


async def test_an_idle_connection_the_server_closed_is_not_written_to() -> None:
    """The server answers as if keeping the connection, then drops it while it sits idle."""
    async with (
        LoopbackServer(always(sized("200 OK", b"served"), then="close")) as server,
        WireTransport() as transport,
    ):
        first = await fetch(transport, "GET", server.url("/one"))
        await asyncio.sleep(0.05)
        second = await fetch(transport, "GET", server.url("/two"))
        assert transport.connections_opened == 2
    assert (first.content, second.content) == (b"served", b"served")
    assert server.requests_per_connection == [1, 1]


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with WireTransport() as transport:
        with pytest.raises(httpx2.ConnectError):
            await fetch(transport, "GET", f"http://127.0.0.1:{unused_port()}/scim/Users")
        assert transport.connections_opened == 0


@pytest.mark.usefixtures("no_proxy_env")
async def test_a_refused_connection_through_the_target_is_a_transient_could_not_connect() -> None:
    async with ScimTarget(f"http://127.0.0.1:{unused_port()}/scim", "tok", max_attempts=1) as target:
        with pytest.raises(TransientError) as caught:
            await target.find_users("userName", "x")
    assert caught.value.status is None
    assert caught.value.reason.startswith("GET /Users: could not connect")
    assert isinstance(caught.value.__cause__, httpx2.ConnectError)
    assert target.requests_sent == 1


async def test_a_connection_closed_mid_answer_is_a_read_error_and_not_reused() -> None:
    def cut_short(request: Seen) -> Reply:
        if request.target == "/cut":
            return Reply(raw("200 OK", "Content-Length: 100", body=b"0123456789"), "close")
        return Reply(sized("200 OK", b"whole"))

    async with LoopbackServer(cut_short) as server, WireTransport() as transport:
        await fetch(transport, "GET", server.url("/warm-up"))
        with pytest.raises(httpx2.ReadError):
            await fetch(transport, "GET", server.url("/cut"))
        after = await fetch(transport, "GET", server.url("/after"))
        assert transport.connections_opened == 2
    assert after.content == b"whole"
    assert server.requests_per_connection == [2, 1]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"HTPT/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", id="garbage-status-line"),
        pytest.param(b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n", id="no-status-code"),
        pytest.param(raw("200 OK", "Content-Length: 12abc"), id="content-length-not-a-number"),
        pytest.param(raw("200 OK", "Content-Length: -1"), id="content-length-negative"),
        pytest.param(raw("200 OK", f"Content-Length: {MAX_BODY_BYTES + 1}"), id="content-length-too-large"),
    ],
)
async def test_an_answer_that_is_not_acceptable_http_is_a_protocol_error(answer: bytes) -> None:
    """The server sends nothing more and keeps the connection: a transport reading on would hang."""
    async with LoopbackServer(always(answer, then="hang")) as server, WireTransport() as transport:
        async with asyncio.timeout(2):
            with pytest.raises(httpx2.RemoteProtocolError):
                await fetch(transport, "GET", server.url("/x"))
        assert await hung_up(server.connections[0])
        assert transport.connections_opened == 1


async def test_a_timed_out_request_closes_its_connection() -> None:
    def hang_on_cue(request: Seen) -> Reply:
        if request.target == "/hang":
            return Reply(b"", "hang")
        return Reply(sized("200 OK", b"fine"))

    async with LoopbackServer(hang_on_cue) as server, WireTransport() as transport:
        await fetch(transport, "GET", server.url("/before"))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await transport.handle_async_request(httpx2.Request("GET", server.url("/hang")))
        assert await hung_up(server.connections[0])
        after = await fetch(transport, "GET", server.url("/after"))
        assert transport.connections_opened == 2
    assert after.content == b"fine"
    assert server.requests_per_connection == [2, 1]


@pytest.mark.parametrize(("keepalive_s", "connections"), [(0.05, 2), (5.0, 1)])
async def test_an_idle_connection_is_reused_only_within_keepalive(
    keepalive_s: float, connections: int
) -> None:
    async with (
        LoopbackServer(always(sized("200 OK", b"ok"))) as server,
        WireTransport(keepalive_s=keepalive_s) as transport,
    ):
        await fetch(transport, "GET", server.url("/one"))
        await asyncio.sleep(0.1)
        await fetch(transport, "GET", server.url("/two"))
        assert transport.connections_opened == connections
    assert len(server.connections) == connections


# -- ScimTarget on the default transport ------------------------------------------------------------


@pytest.mark.usefixtures("no_proxy_env")
async def test_the_target_creates_and_finds_a_user_over_the_wire() -> None:
    def scim_app(request: Seen) -> Reply:
        if request.method == "POST":
            created = {**orjson.loads(request.body), "id": "u-1"}
            return Reply(sized("201 Created", orjson.dumps(created), "Content-Type: application/scim+json"))
        listing = {
            "schemas": [LIST_RESPONSE],
            "totalResults": 1,
            "Resources": [{"id": "u-1", "userName": "jdoe@contoso.com"}],
        }
        return Reply(sized("200 OK", orjson.dumps(listing), "Content-Type: application/scim+json"))

    body = {"userName": "jdoe@contoso.com", "active": True}
    async with LoopbackServer(scim_app) as server:
        async with ScimTarget(server.url("/scim/v2?aadOptscim062020"), SECRET) as target:
            assert isinstance(target._http, WireTransport)
            created = await target.create("User", body)
            found = await target.find_users("userName", "jdoe@contoso.com")
        assert await hung_up(server.connections[0])  # closed when the target was
    assert created == {**body, "id": "u-1"}
    assert [user["id"] for user in found] == ["u-1"]
    assert server.requests_per_connection == [2]
    post, get = server.connections[0].requests
    assert (post.method, post.target) == ("POST", "/scim/v2/Users?aadOptscim062020")
    assert post.headers["authorization"] == f"Bearer {SECRET}"
    assert post.headers["content-type"] == "application/scim+json"
    assert post.headers["user-agent"] == "enlist-provisioning"
    assert orjson.loads(post.body) == body
    assert get.target == "/scim/v2/Users?aadOptscim062020&filter=userName+eq+%22jdoe%40contoso.com%22"
    assert get.headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.usefixtures("no_proxy_env")
async def test_the_default_transport_is_wire_unless_a_proxy_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    url = httpx2.URL("http://scim.example/scim")
    async with default_transport(url) as direct:
        assert isinstance(direct, WireTransport)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    async with default_transport(url) as proxied:
        assert isinstance(proxied, httpx2.AsyncHTTPTransport)
        assert not isinstance(proxied, WireTransport)
    async with default_transport(httpx2.URL("https://scim.example/scim")) as other_scheme:
        assert isinstance(other_scheme, WireTransport)
    monkeypatch.setenv("ALL_PROXY", "http://proxy.example:3128")
    async with default_transport(httpx2.URL("https://scim.example/scim")) as any_scheme:
        assert isinstance(any_scheme, httpx2.AsyncHTTPTransport)
        assert not isinstance(any_scheme, WireTransport)
    monkeypatch.setenv("NO_PROXY", "scim.example")
    async with default_transport(url) as bypassed:
        assert isinstance(bypassed, WireTransport)


# -- found while this file was written, fixed in wire.py ------------------------------------------


async def test_a_negative_chunk_size_is_a_protocol_error() -> None:
    answer = raw("200 OK", "Transfer-Encoding: chunked", body=b"-1\r\nx\r\n0\r\n\r\n")
    async with LoopbackServer(always(answer, then="hang")) as server, WireTransport() as transport:
        async with asyncio.timeout(2):
            with pytest.raises(httpx2.RemoteProtocolError):
                await fetch(transport, "GET", server.url("/x"))


async def _streamed() -> AsyncIterator[bytes]:
    yield b"streamed "
    yield b"body"


async def test_a_streamed_request_body_is_framed_once() -> None:
    async with LoopbackServer(always(sized("200 OK", b"ok"))) as server, WireTransport() as transport:
        request = httpx2.Request("POST", server.url("/upload"), content=_streamed())
        response = await transport.handle_async_request(request)
        await response.aread()
    [seen] = server.connections[0].requests
    assert not {"transfer-encoding", "content-length"} <= seen.headers.keys(), seen.headers
    assert seen.body == b"streamed body"


async def test_a_connection_header_listing_close_among_options_is_not_reused() -> None:
    answer = sized("200 OK", b"ok", "Connection: keep-alive, close")
    async with LoopbackServer(always(answer)) as server, WireTransport() as transport:
        for _ in range(2):
            assert (await fetch(transport, "GET", server.url("/x"))).status_code == 200
        assert transport.connections_opened == 2


async def test_an_ipv6_origin_is_named_in_brackets_in_the_host_header() -> None:
    heads: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(sized("200 OK", b"ok"))
        await writer.drain()
        writer.close()

    try:
        server = await asyncio.start_server(answer, "::1", 0)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    port = server.sockets[0].getsockname()[1]
    async with server, WireTransport() as transport:
        response = await transport.exchange(("http", "::1", port), "GET", "/scim/Users", {}, None)
    assert response.status_code == 200
    assert response.content == b"ok"
    assert heads[0].split(b"\r\n")[:2] == [b"GET /scim/Users HTTP/1.1", f"Host: [::1]:{port}".encode()]


# -- header values: no CR, LF or NUL ever leaves ---------------------------------------------------

UNSAFE = [
    pytest.param("tok\r\nX-Injected: yes", id="crlf"),
    pytest.param("tok\nX-Injected: yes", id="lf"),
    pytest.param("tok\rX-Injected: yes", id="cr"),
    pytest.param("tok\x00en", id="nul"),
]


@pytest.mark.parametrize("value", UNSAFE)
@pytest.mark.parametrize("name", ["Authorization", "Accept", "Content-Type", "User-Agent", "X-Anything"])
async def test_every_header_value_with_cr_lf_or_nul_is_refused_before_anything_is_sent(
    name: str, value: str
) -> None:
    async with LoopbackServer(always(sized("200 OK", b"ok"))) as server, WireTransport() as transport:
        origin = ("http", "127.0.0.1", server.port)
        with pytest.raises(UnsafeHeaderError, match=name) as caught:
            await transport.exchange(origin, "GET", "/scim/Users", {name: value}, None)
        assert "X-Injected" not in str(caught.value), "the value itself is not echoed"
        with pytest.raises(UnsafeHeaderError):
            await transport.handle_async_request(_request_with_raw_header(server.url("/x"), name, value))
        assert transport.connections_opened == 0
    assert server.connections == []


def _request_with_raw_header(url: str, name: str, value: str) -> httpx2.Request:
    """httpx2 takes any value; an injected transport's caller could build this."""
    request = httpx2.Request("GET", url)
    request.headers[name] = value
    return request


@pytest.mark.parametrize("value", UNSAFE)
async def test_a_secret_token_with_cr_lf_or_nul_is_refused_by_the_target(value: str) -> None:
    async with LoopbackServer(always(sized("200 OK", b"ok"))) as server:
        with pytest.raises(ValueError, match="Secret token contains a line break or NUL"):
            ScimTarget(server.url("/scim/v2"), value)
    assert server.connections == []


@pytest.mark.parametrize("value", UNSAFE)
async def test_an_application_cannot_be_saved_with_a_secret_token_with_cr_lf_or_nul(
    service: Service, value: str
) -> None:
    """`app connect` and the Provisioning page's Save go through `operations.connect`."""
    app = await operations.create(service, "Portal")
    async with LoopbackServer(always(sized("200 OK", b"ok"))) as server:
        with pytest.raises(ValueError, match="Secret token contains a line break or NUL"):
            await operations.connect(service, app, server.url("/scim/v2"), value)
    assert server.connections == []
    async with service.db.read() as conn:
        stored = await app_store.get_app_by_id(conn, app.id)
    assert (stored.state, stored.tenant_url, stored.sealed_token) == ("not_configured", None, None)
