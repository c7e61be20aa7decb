"""The fake Graph of the tests (tests/fakes/graph) as a server process for S7.

`python -m bench.apps.fake_graph AUTH_PORT GRAPH_PORT USERS CLIENT_ID SECRET`: a tenant of USERS
users (every 10th the manager of the next nine) in USERS/100 groups, delta pages of 200 objects
(what Graph was seen to send, graph-source.md §7). Beside Graph's routes, on the Graph port:
`GET /healthz`; `POST /_bench/changes?n=N` makes N changes (a new department for most, a
membership moved for every tenth); `GET /_bench/counts` the Graph requests answered, by route.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections import Counter
from typing import Any

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from tests.fakes.graph.app import FakeGraph


def build(users: int, client_id: str, secret: str) -> tuple[FakeGraph, list[str], list[str]]:
    fake = FakeGraph()
    fake.knobs.page_size = 200
    tenant = fake.tenant
    tenant.register_app(client_id, secret=secret)
    ids = [
        tenant.create_user(f"user{i}@contoso.com", department=f"D{i % 7}", jobTitle="Staff")
        for i in range(users)
    ]
    for i, user in enumerate(ids):
        if i % 10:
            tenant.managers[user] = ids[i - i % 10]  # straight into state: the log stays one entry a user
    groups = [tenant.create_group(f"Group {g}") for g in range(max(1, users // 100))]
    for i, user in enumerate(ids):
        tenant.members[groups[i % len(groups)]][user] = "user"
    return fake, ids, groups


class Bench:
    def __init__(self, fake: FakeGraph, users: list[str], groups: list[str]) -> None:
        self.fake, self.users, self.groups = fake, users, groups
        self.round = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/healthz":
            await Response("ok")(scope, receive, send)
        elif path == "/_bench/counts":
            counts = Counter(r.route for r in self.fake.requests)
            await Response(orjson.dumps(counts), media_type="application/json")(scope, receive, send)
        elif path == "/_bench/changes":
            n = int(Request(scope, receive).query_params.get("n", "100"))
            self.round += 1
            tenant = self.fake.tenant
            for k in range(n):
                user = self.users[(k * 97 + self.round) % len(self.users)]
                if k % 10 == 9:
                    group = self.groups[k % len(self.groups)]
                    if user in tenant.members[group]:
                        tenant.remove_member(group, user)
                    else:
                        tenant.add_member(group, user)
                else:
                    tenant.update_user(user, department=f"Changed {self.round}")
            await Response("done")(scope, receive, send)
        else:
            await self.fake(scope, receive, send)


def _listening(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def main() -> None:
    auth_port, graph_port, users, client_id, secret = sys.argv[1:6]
    fake, ids, groups = build(int(users), client_id, secret)
    fake.auth_port = int(auth_port)
    fake.auth_base = f"http://127.0.0.1:{auth_port}"
    fake.graph_base = f"http://127.0.0.1:{graph_port}"
    server = uvicorn.Server(
        uvicorn.Config(Bench(fake, ids, groups), log_level="warning", access_log=False, lifespan="off")
    )
    asyncio.run(server.serve(sockets=[_listening(int(auth_port)), _listening(int(graph_port))]))


if __name__ == "__main__":
    main()
