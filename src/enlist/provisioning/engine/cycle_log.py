"""`logged_cycle`: every cycle runs under a request id and ends with one `cycle` log event.

A cycle started by a request (Sync now, the API) keeps that request's id; one the scheduler or
the CLI starts gets an id of its own. The id is on every provisioning log record the cycle
writes and on every SCIM request it sends (`X-Request-Id`), so the target's logs show it too.
The event carries the application's name, the cycle's kind, outcome, counts and duration, never
an object's attributes. A refused cycle (busy, paused) logs nothing: no cycle ran.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from enlist.logs.context import bound
from enlist.logs.events import event
from enlist.provisioning.engine.summary import CycleSummary

P = ParamSpec("P")


Run = Callable[P, Awaitable[CycleSummary]]


def logged_cycle(*refusals: type[Exception]) -> Callable[[Run[P]], Run[P]]:
    """Decorates `run(service, app, …)`: under a request id, its outcome logged (see the module
    docstring); `refusals` are the exceptions that mean no cycle ran."""
    return functools.partial(_logged, refusals=refusals)


def _logged(run: Run[P], *, refusals: tuple[type[Exception], ...]) -> Run[P]:
    @functools.wraps(run)
    async def logged(*args: P.args, **kwargs: P.kwargs) -> CycleSummary:
        app: Any = args[1] if len(args) > 1 else kwargs.get("app")
        name = getattr(app, "name", None)
        with bound(application=name):
            started = time.perf_counter()
            try:
                summary = await run(*args, **kwargs)
            except refusals:
                raise
            except Exception as exc:
                duration = round((time.perf_counter() - started) * 1000, 3)
                event(
                    "cycle", logging.ERROR, outcome="crashed", error=type(exc).__name__, duration_ms=duration
                )
                raise
            event(
                "cycle",
                logging.INFO if summary.status in ("succeeded", "stopped") else logging.WARNING,
                cycle_id=summary.cycle_id,
                kind=summary.kind,
                outcome=summary.status,
                counts=dict(summary.counts),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
            return summary

    return logged
