"""prometheus-client's multiprocess mode for `serve --workers N`.

Each worker is its own process with its own counters; a scrape reaches one of them. In
multiprocess mode every worker writes its counters and histograms to files in one directory, and
a scrape adds up the files of every worker. `prepare()` makes that directory (private, new and
empty, so no count of an earlier run leaks in) and names it in `PROMETHEUS_MULTIPROC_DIR` before
the workers start; the library reads the variable when it is first imported, in each worker.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

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
