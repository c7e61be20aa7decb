"""The fake Microsoft Graph for people: run it from the clone's root with the project's venv.

    python -m tests.fakes.graph [--auth-port 8410] [--graph-port 8411]
        serve the demo tenant (tests/fakes/graph/demo.py) on loopback, print the
        `enlist provisioning source add` command that reads it, serve until Ctrl+C
    python -m tests.fakes.graph change [--graph-url URL] OP ARGS…
        change the running fake's tenant (rename, disable, delete, restore, manager, …)
    python -m tests.fakes.graph show [--graph-url URL]
        the running fake's users and groups, as JSON

`--graph-url` defaults to `$FAKE_GRAPH_URL`, else http://127.0.0.1:8411.

Beside Graph's own routes the Graph port answers `GET /healthz`, `GET /_fake/tenant` and
`POST /_fake/change` (`{"op", "args"}`): the paths `change` and `show` use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import sys
from typing import Any

import httpx2
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

from tests.fakes.graph import control, demo
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.server import serve

AUTH_PORT, GRAPH_PORT = 8410, 8411
DEFAULT_GRAPH_URL = f"http://127.0.0.1:{GRAPH_PORT}"


class Controlled:
    """The fake behind the three routes of people: health, the tenant, a change."""

    def __init__(self, fake: FakeGraph) -> None:
        self.fake = fake

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        on_graph = scope["type"] == "http" and scope["server"][1] != self.fake.auth_port
        if not on_graph or not (path == "/healthz" or path.startswith("/_fake/")):
            await self.fake(scope, receive, send)
            return
        request = Request(scope, receive)
        if path == "/healthz":
            response: Any = PlainTextResponse("ok")
        elif path == "/_fake/tenant" and request.method == "GET":
            response = JSONResponse(control.describe(self.fake.tenant))
        elif path == "/_fake/change" and request.method == "POST":
            try:
                body = orjson.loads(await request.body())
                op, args = str(body["op"]), [str(a) for a in body["args"]]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                response = JSONResponse({"error": 'the body must be {"op": …, "args": […]}'}, status_code=400)
            else:
                try:
                    response = JSONResponse({"done": control.apply(self.fake.tenant, op, args)})
                except control.ChangeError as error:
                    response = JSONResponse({"error": str(error)}, status_code=400)
        else:
            response = JSONResponse({"error": f"no {request.method} {path}"}, status_code=404)
        await response(scope, receive, send)


def source_add_command(fake: FakeGraph, seeded: demo.Demo, name: str = "entra") -> str:
    """The exact command that adds this fake as a source (the secret on stdin)."""
    return (
        f"printf '%s\\n' {shlex.quote(seeded.client_secret)} | "
        f"enlist provisioning source add {name} --kind graph --tenant-id {seeded.tenant_id} "
        f"--client-id {seeded.client_id} --client-secret - "
        f"--graph-url {fake.graph_base} --login-url {fake.auth_base}"
    )


async def _serve(auth_port: int, graph_port: int) -> None:
    fake = FakeGraph()
    seeded = demo.seed(fake.tenant)
    async with serve(fake, auth_port=auth_port, graph_port=graph_port, app=Controlled(fake)):
        tenant = fake.tenant
        _say(
            f"Fake Microsoft Graph: tenant {seeded.tenant_id}, {len(tenant.users)} users, "
            f"{len(tenant.groups)} groups, the enterprise application 'Learning portal' "
            f"(appId {seeded.app_id})\n"
            f"  Graph:  {fake.graph_base}\n"
            f"  Login:  {fake.auth_base}\n"
            "Add it as a source (the client secret goes on stdin):\n\n"
            f"  {source_add_command(fake, seeded)}\n\n"
            "Change the tenant for the next delta round (from the clone, in another terminal):\n"
            f"  python -m tests.fakes.graph change{_url_option(fake)} rename alan@contoso.com "
            "alan.turing@contoso.com\n"
            f"  python -m tests.fakes.graph change --help\n"
            "Ctrl+C stops it."
        )
        await asyncio.Event().wait()


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()  # a pipe or a log file sees the banner at once


def _url_option(fake: FakeGraph) -> str:
    """`--graph-url …` when `change` would not find this fake without it."""
    found = os.environ.get("FAKE_GRAPH_URL", DEFAULT_GRAPH_URL).rstrip("/")
    return "" if fake.graph_base == found else f" --graph-url {fake.graph_base}"


def _changes_help() -> str:
    lines = [f"  {op} {usage}" for op, (usage, _) in control.OPERATIONS.items()]
    return "changes (users by userPrincipalName, groups by displayName):\n" + "\n".join(lines)


def _call(graph_url: str, method: str, path: str, body: Any = None) -> Any:
    try:
        response = httpx2.request(method, f"{graph_url.rstrip('/')}{path}", json=body, timeout=10)
    except httpx2.TransportError as error:
        sys.exit(f"error: no fake Graph answers at {graph_url} ({error}); start it: make fake-graph")
    answer = response.json()
    if response.status_code != 200:
        sys.exit(f"error: {answer['error']}")
    return answer


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.graph", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    parser.add_argument(
        "--auth-port", type=int, default=AUTH_PORT, help="the login host's port (0: any free)"
    )
    parser.add_argument(
        "--graph-port", type=int, default=GRAPH_PORT, help="the Graph host's port (0: any free)"
    )
    change = commands.add_parser(
        "change",
        help="change the running fake's tenant",
        epilog=_changes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    change.add_argument("--graph-url", default=os.environ.get("FAKE_GRAPH_URL", DEFAULT_GRAPH_URL))
    change.add_argument("op", choices=list(control.OPERATIONS), metavar="OP")
    change.add_argument("args", nargs="*", metavar="ARG")
    show = commands.add_parser("show", help="the running fake's users and groups, as JSON")
    show.add_argument("--graph-url", default=os.environ.get("FAKE_GRAPH_URL", DEFAULT_GRAPH_URL))
    args = parser.parse_args(argv)
    if args.command == "change":
        _say(_call(args.graph_url, "POST", "/_fake/change", {"op": args.op, "args": args.args})["done"])
    elif args.command == "show":
        _say(orjson.dumps(_call(args.graph_url, "GET", "/_fake/tenant"), option=orjson.OPT_INDENT_2).decode())
    else:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how it stops
            asyncio.run(_serve(args.auth_port, args.graph_port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
