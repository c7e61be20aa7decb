"""Write the last full run into `docs/performance.md`, between its two result markers.

Only the block between `<!-- bench:results:start -->` and `<!-- bench:results:end -->` is
rewritten; the prose around it (what limits each figure, what was profiled) is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bench.report import Row, table

LATEST = ROOT / "bench" / "results" / "latest.json"
PERFORMANCE = ROOT / "docs" / "performance.md"
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def results_block(document: dict[str, Any]) -> str:
    m, run = document["machine"], document["run"]
    rows = [Row(**r) for r in document["rows"]]
    load = run.get("loadavg_start")
    lines = [
        START,
        f"Measured {m['date']} at commit `{m['commit']}` on {m['nproc']} CPUs ({m['cpu']}), "
        f"{m['ram_gib']} GiB RAM, Python {m['python']}; `python -m bench` took {run['seconds']:.0f} s"
        + (
            f"; 1-minute load average {load[0]:.1f} at the start, {m['loadavg'][0]:.1f} at the end."
            if load
            else "."
        ),
        "",
        "```text",
        table(rows),
        "```",
        END,
    ]
    return "\n".join(lines)


def update(latest: Path = LATEST, target: Path = PERFORMANCE) -> None:
    """Replace the results block of `target` with the figures of `latest`."""
    document = json.loads(latest.read_text())
    text = target.read_text() if target.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n## The last run\n\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    target.write_text(before + results_block(document) + after)
