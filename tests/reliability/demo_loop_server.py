"""Serve one service as `enlist demo` does: the shared uvicorn config, on asyncio's own event loop.

`enlist … serve` runs on uvloop; the demo runs both services inside `asyncio.run`, whose loop
logs `socket.send() raised exception.` for every write to a connection already lost. Run as
`python -m tests.reliability.demo_loop_server lms|provisioning PORT`.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from enlist.settings import load_settings
from enlist.web.server import server_config


def main(service: str, port: int) -> None:
    settings = load_settings()
    if service == "lms":
        from enlist.lms.api.app import create_app  # noqa: PLC0415

        app = create_app(settings)
    else:
        from enlist.provisioning.api.app import create_app as create_provisioning  # noqa: PLC0415

        app = create_provisioning(settings, scheduler=False)
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, settings=settings))
    asyncio.run(server.serve())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
