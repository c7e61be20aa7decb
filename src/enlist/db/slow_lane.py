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

The tenant is `enlist.db.admission.TENANT`, set by the web layer's request deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from enlist.db.admission import TenantTurns

T = TypeVar("T")

INLINE_SLICE_S = 0.02
THREADS = 4
PER_TENANT = 1


class SlowLane:
    """A few threads for slow statements, at most `per_tenant` of them per tenant at once."""

    def __init__(self, threads: int = THREADS, per_tenant: int = PER_TENANT) -> None:
        self._threads = threads
        self._turns = TenantTurns(per_tenant, "slow_lane")
        self._executor: ThreadPoolExecutor | None = None
        self._free: asyncio.Semaphore | None = None
        self.ran = 0  # statements this lane has run, for tests and measurement

    async def run(self, work: Callable[[threading.Event], T]) -> T:
        """`work(stop)` on a thread once this tenant and a thread are free. `work` must end soon
        after `stop` is set (a progress handler that checks it, then an interrupt)."""
        if self._executor is None or self._free is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="enlist-slow-sql")
            self._free = asyncio.Semaphore(self._threads)
        async with self._turns.turn(), self._free:
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

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
