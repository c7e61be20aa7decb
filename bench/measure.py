"""Run a command and write what it used: `python -m bench.measure REPORT.json -- COMMAND…`.

The command's stdout and stderr pass through. As soon as the command starts, the report holds
its pid (`{"pid": …}`), so that a watcher can sample its memory while it runs
(`bench.procs.watched`); when it ends, the report is rewritten with its wall time, its peak
resident set (`ru_maxrss`, KiB, of the child alone: this process waits for it with `wait4`),
its CPU seconds and its exit status. This process exits with the command's status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m bench.measure REPORT.json -- COMMAND [ARG…]", file=sys.stderr)
        return 2
    report, command = Path(argv[0]), argv[2:]
    started = time.perf_counter()
    child = subprocess.Popen(command)
    report.write_text(json.dumps({"pid": child.pid}))
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    report.write_text(
        json.dumps(
            {
                "pid": child.pid,
                "wall_s": time.perf_counter() - started,
                "maxrss_kib": usage.ru_maxrss,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "returncode": child.returncode,
            }
        )
    )
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
