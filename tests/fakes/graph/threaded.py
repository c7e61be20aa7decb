"""The fake Graph served from a thread of its own, for tests whose code under test runs its own
event loop (the CLI's `asyncio.run`). Tenant changes go through `change`, which runs them on
the fake's loop, so they never race a request."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.server import serve

T = TypeVar("T")


class ThreadedGraph:
    def __init__(self, fake: FakeGraph, loop: asyncio.AbstractEventLoop) -> None:
        self.fake, self.loop = fake, loop

    def change(self, edit: Callable[[], T]) -> T:
        """Run `edit` (a call of the tenant's test API) on the fake's loop; its result."""

        async def run() -> T:
            return edit()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)


@contextlib.contextmanager
def serve_in_thread(fake: FakeGraph) -> Iterator[ThreadedGraph]:
    loop = asyncio.new_event_loop()
    started, stop = threading.Event(), asyncio.Event()
    failure: list[BaseException] = []

    async def main() -> None:
        try:
            async with serve(fake):
                started.set()
                await stop.wait()
        except Exception as exc:  # noqa: BLE001 - any start failure is re-raised in the test thread
            failure.append(exc)
            started.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(timeout=10)
    if failure:
        raise failure[0]
    try:
        yield ThreadedGraph(fake, loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
