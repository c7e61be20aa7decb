"""The results: one row per comparison, printed as one table and written as JSON."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One comparison: our figure against a yardstick measured in the same run.

    `ratio` is ours / peer unless the row says otherwise in `compared`; `met` is None when
    there is no target or nothing to judge (a scenario that did not finish).
    """

    scenario: str
    compared: str
    ours: float | None
    peer: float | None
    unit: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def unfinished(scenario: str, compared: str, target: str, why: str) -> Row:
    return Row(scenario, compared, None, None, "", None, target, None, why)


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table (notes below it)."""
    head = ("scenario", "what is compared", "ours", "peer", "unit", "ratio", "target", "met?")
    cells = [
        (
            r.scenario,
            r.compared,
            _num(r.ours),
            _num(r.peer),
            r.unit,
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.target,
            {True: "yes", False: "NO", None: "-"}[r.met],
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [head, *cells]) for i in range(len(head))]
    lines = [
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in [head, *cells]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r.scenario} {r.compared}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", "Notes:", *notes] if notes else []))


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(path: Path, rows: list[Row], run: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": machine(), "run": run, "rows": [asdict(r) for r in rows]}
    path.write_text(json.dumps(document, indent=2) + "\n")
