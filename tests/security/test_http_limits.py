"""HTTP limits of both services, probed over real sockets against `enlist … serve` on loopback.

A header flood is answered 431 before the process grows; slow heads and bodies are answered 408;
one client address cannot hold more than its share of connections, and `/healthz` keeps
answering another client while one floods. Every loop here is bounded by bytes or by count.
"""

from __future__ import annotations

import re
import select
import selectors
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.live import ENLIST, LivePortal, free_port, serve

MAX_CONNECTIONS = 50
TIMEOUT_S = 2
ENV = {
    "ENLIST_HTTP_MAX_CONNECTIONS_PER_CLIENT": str(MAX_CONNECTIONS),
    "ENLIST_HTTP_HEADER_TIMEOUT_SECONDS": str(TIMEOUT_S),
    "ENLIST_HTTP_BODY_TIMEOUT_SECONDS": str(TIMEOUT_S),
}
FLOODER = "127.0.0.2"  # Linux routes all of 127/8 to loopback: a second client address


@dataclass
class Live:
    service: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


def start(service: str, data_dir: Path, extra: dict[str, str]) -> Live:
    port = free_port()
    env = {**LivePortal(data_dir, None).env(), **ENV, **extra}
    env["ENLIST_LMS_PUBLIC_URL" if service == "lms" else "ENLIST_PROVISIONING_PUBLIC_URL"] = (
        f"http://127.0.0.1:{port}"
    )
    env.pop("ENLIST_PROVISIONING_DATABASE_URL", None)
    command = [ENLIST, service, "serve", "--port", str(port)]
    if service == "provisioning":
        command.append("--no-scheduler")
    process = serve(command, env, data_dir, f"http://127.0.0.1:{port}")
    return Live(service, port, process, data_dir / "serve.log")


@pytest.fixture(scope="module", params=["lms", "provisioning"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    started = start(request.param, tmp_path_factory.mktemp(request.param), {})
    yield started
    started.process.terminate()
    started.process.wait(timeout=30)


def connect(live: Live, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", live.port))
    return sock


def answer(sock: socket.socket, wait_s: float = 5) -> bytes:
    """What the server sent before closing (or within `wait_s`), empty if nothing."""
    got = b""
    sock.settimeout(wait_s)
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return got


def flood_headers(live: Live, line: bytes, bound: int) -> tuple[int, bytes]:
    """Send header lines made of `line` until the server answers or `bound` bytes are sent;
    returns (bytes sent, the answer)."""
    sock = connect(live)
    sent = 0
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        chunk = line * max(1, 65536 // len(line))
        while sent < bound:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        return sent, answer(sock)
    finally:
        sock.close()


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"X-Pad: " + b"a" * 1000 + b"\r\n", id="many-long-lines"),
        pytest.param(b"a" * 4096, id="one-endless-line"),
    ],
)
def test_a_header_flood_is_answered_431_before_the_process_grows(live: Live, line: bytes) -> None:
    before = live.rss_kib()
    sent, reply = flood_headers(live, line, bound=64 * 1024 * 1024)
    grown_mib = (live.rss_kib() - before) / 1024
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    assert sent < 8 * 1024 * 1024  # the cap is 32 KiB; the rest is what sockets buffer
    assert grown_mib < 8, f"{live.service} grew {grown_mib:.1f} MiB under a header flood"
    assert httpx2.get(live.url + "/healthz", timeout=10).status_code == 200


def test_a_large_head_arriving_in_one_piece_is_answered_431(live: Live) -> None:
    sock = connect(live)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
    assert answer(sock).startswith(b"HTTP/1.1 431 ")
    sock.close()
    sock = connect(live)
    sock.sendall(b"GET /healthz?" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer(sock).startswith(b"HTTP/1.1 431 ")
    sock.close()


def test_more_header_lines_than_the_cap_are_answered_431(live: Live) -> None:
    sock = connect(live)
    headers = b"".join(b"X-%d: 1\r\n" % i for i in range(101))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    assert answer(sock).startswith(b"HTTP/1.1 431 ")
    sock.close()
    sock = connect(live)
    headers = b"".join(b"X-%d: 1\r\n" % i for i in range(98))  # with Host and Connection: the cap
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n")
    assert answer(sock).startswith(b"HTTP/1.1 200 ")
    sock.close()


def wait_closed(sockets: list[socket.socket], within_s: float) -> dict[bytes, int]:
    """Read every socket until the server closes it (waiting at most `within_s`); returns
    how many ended with each status line (b"" for a silent close, b"open" for still open)."""
    replies: dict[socket.socket, bytes] = dict.fromkeys(sockets, b"")
    pending = set(sockets)
    with selectors.DefaultSelector() as selector:  # epoll: select() stops at descriptor 1024
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        give_up = time.monotonic() + within_s
        while pending and time.monotonic() < give_up:
            for key, _events in selector.select(timeout=1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                replies[sock] += chunk
                if not chunk:
                    pending.discard(sock)
                    selector.unregister(sock)
    counts: dict[bytes, int] = {}
    for sock, reply in replies.items():
        key = b"open" if sock in pending else reply.split(b"\r\n", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_one_client_holding_1100_half_sent_heads_gets_its_share_and_healthz_still_answers(live: Live) -> None:
    flood = []
    try:
        for _ in range(1100):
            sock = connect(live, FLOODER)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            flood.append(sock)
        health = httpx2.get(live.url + "/healthz", timeout=10)
        assert health.status_code == 200
        counts = wait_closed(flood, within_s=TIMEOUT_S * 10)
        assert counts == {
            b"HTTP/1.1 429 Too Many Requests": 1100 - MAX_CONNECTIONS,
            b"HTTP/1.1 408 Request Timeout": MAX_CONNECTIONS,
        }
    finally:
        for sock in flood:
            sock.close()


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(live: Live) -> None:
    idle = [connect(live, FLOODER) for _ in range(5)]
    try:
        assert wait_closed(idle, within_s=TIMEOUT_S * 10) == {b"": 5}
    finally:
        for sock in idle:
            sock.close()


def test_half_sent_bodies_are_answered_408_after_the_body_timeout(live: Live) -> None:
    stalled = []
    try:
        for _ in range(10):
            sock = connect(live, FLOODER)
            sock.sendall(
                b"POST /admin/login HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a"
            )
            stalled.append(sock)
        assert wait_closed(stalled, within_s=TIMEOUT_S * 10) == {b"HTTP/1.1 408 Request Timeout": 10}
        assert httpx2.get(live.url + "/healthz", timeout=10).status_code == 200
        assert "Traceback" not in live.log.read_text()
    finally:
        for sock in stalled:
            sock.close()


def test_connections_closed_by_their_client_free_its_share(live: Live) -> None:
    transport = httpx2.HTTPTransport(local_address=FLOODER)
    with httpx2.Client(base_url=live.url, timeout=10, transport=transport) as client:
        for _ in range(3):
            held = [connect(live, FLOODER) for _ in range(MAX_CONNECTIONS)]
            for sock in held:
                sock.close()
            statuses = []
            for _ in range(50):  # the server sees the closes within a few loop turns
                statuses.append(client.get("/healthz", headers={"Connection": "close"}).status_code)
                if statuses[-1] == 200:
                    break
                time.sleep(0.1)
            assert statuses[-1] == 200, statuses


def test_every_server_is_configured_in_one_place() -> None:
    """`lms serve`, `provisioning serve` and the demo get their limits from `enlist.web.server`:
    no other module builds a uvicorn configuration or runs uvicorn itself."""
    source = Path(__file__).resolve().parents[2] / "src" / "enlist"
    builders = re.compile(r"uvicorn\.(run|Config)\(|from uvicorn(\.config)? import .*\b(run|Config)\b")
    offenders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if path.name not in ("server.py", "http_limits.py") and builders.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize("service", ["lms", "provisioning"])
def test_a_trusted_proxy_may_hold_more_connections_than_one_client(service: str, tmp_path: Path) -> None:
    proxied = start(service, tmp_path, {"ENLIST_TRUSTED_PROXIES": FLOODER})
    held = []
    try:
        for _ in range(MAX_CONNECTIONS + 20):
            sock = connect(proxied, FLOODER)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n")
            held.append(sock)
        statuses = []
        for sock in held:  # kept alive, so all of them are open at once
            sock.settimeout(10)
            statuses.append(sock.recv(100).split(b"\r\n", 1)[0])
        assert statuses == [b"HTTP/1.1 200 OK"] * (MAX_CONNECTIONS + 20)
    finally:
        for sock in held:
            sock.close()
        proxied.process.terminate()
        proxied.process.wait(timeout=30)
