"""Where an SQLite read too slow for the event loop runs, and who gets to run one.

The inline SQLite driver runs statements on the event loop, which is right for the indexed
lookups nearly every request makes and wrong for a statement that scans: while it runs, no other
request of any tenant moves. So an inline SELECT may hold the loop for `INLINE_SLICE_S` at most;
past that SQLite's progress handler interrupts it (a read-only statement interrupted leaves its
transaction as it was) and it runs again here, on a thread, where it holds only a thread and a
core (`sqlite3` lets go of the GIL while SQLite steps).

Threads are few and are shared fairly: one tenant may run at most `per_tenant` statements here at
once, so a tenant's burst of expensive searches queues behind itself while other tenants' slow
statements get the other threads. A statement waiting for its turn or running here stops when its
request is cancelled (the request deadline): waiting ends at once, running ends through
`sqlite3.Connection.interrupt`, and the connection is not handed back before the thread let go
of it.

Two context variables say who is asking and until when; the web layer's request deadline sets
them for each request (`TENANT` from the path, `DEADLINE` in `time.monotonic()` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

INLINE_SLICE_S = 0.02
THREADS = 4
PER_TENANT = 1

TENANT: ContextVar[str] = ContextVar("enlist_tenant", default="")
DEADLINE: ContextVar[float | None] = ContextVar("enlist_deadline", default=None)


class SlowLane:
    """A few threads for slow statements, at most `per_tenant` of them per tenant at once."""

    def __init__(self, threads: int = THREADS, per_tenant: int = PER_TENANT) -> None:
        self._threads = threads
        self._per_tenant = per_tenant
        self._executor: ThreadPoolExecutor | None = None
        self._free: asyncio.Semaphore | None = None
        self._tenants: dict[str, tuple[asyncio.Semaphore, int]] = {}
        self.ran = 0  # statements this lane has run, for tests and measurement

    def _tenant_turns(self, tenant: str) -> asyncio.Semaphore:
        turns, users = self._tenants.get(tenant, (asyncio.Semaphore(self._per_tenant), 0))
        self._tenants[tenant] = (turns, users + 1)
        return turns

    def _leave(self, tenant: str) -> None:
        turns, users = self._tenants[tenant]
        if users == 1:
            del self._tenants[tenant]
        else:
            self._tenants[tenant] = (turns, users - 1)

    async def run(self, work: Callable[[threading.Event], T]) -> T:
        """`work(stop)` on a thread once this tenant and a thread are free. `work` must end soon
        after `stop` is set (a progress handler that checks it, then an interrupt)."""
        if self._executor is None or self._free is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="enlist-slow-sql")
            self._free = asyncio.Semaphore(self._threads)
        tenant = TENANT.get()
        turns = self._tenant_turns(tenant)
        try:
            async with turns, self._free:
                stop = threading.Event()
                running = asyncio.get_running_loop().run_in_executor(self._executor, work, stop)
                try:
                    return await asyncio.shield(running)
                except asyncio.CancelledError:
                    stop.set()
                    with contextlib.suppress(Exception):
                        await running  # the connection is not ours to hand back before this
                    raise
                finally:
                    self.ran += 1
        finally:
            self._leave(tenant)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
