"""prometheus-client's multiprocess mode for `serve --workers N`.

Each worker is its own process with its own counters; a scrape reaches one of them. In
multiprocess mode every worker writes its counters, histograms and gauges to files in one
directory, and a scrape adds up the files of every worker. `prepare()` makes that directory
(private, new and empty, so no count of an earlier run leaks in) and names it in
`PROMETHEUS_MULTIPROC_DIR` before the workers start; the library reads the variable when it is
first imported, in each worker. When a worker exits, the supervisor calls `worker_exited(pid)`:
its counts stay (a counter never goes down because a worker was replaced), but its share of the
live gauges (`enlist_worker_processes`) is dropped.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import multiprocess as library

ENVIRONMENT_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> Path:
    """A fresh private directory for the workers' metric files, removed when this process exits.
    Call it in the parent, before the workers start."""
    directory = Path(tempfile.mkdtemp(prefix="enlist-metrics-"))  # mode 0700
    os.environ[ENVIRONMENT_VARIABLE] = str(directory)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def directory() -> Path | None:
    """The multiprocess directory this process writes to, or None (single process)."""
    value = os.environ.get(ENVIRONMENT_VARIABLE)
    return Path(value) if value else None


def worker_exited(pid: int) -> None:
    """Drop the live gauges of the worker `pid`, which has exited (a no-op in single-process mode)."""
    shared = directory()
    if shared is not None:
        library.mark_process_dead(pid, str(shared))  # type: ignore[no-untyped-call]
