"""`python -m bench --quick` runs every scenario and reports each one's ratio.

Not a measurement: the figures of a quick run on a shared machine mean nothing. What it guards
is that the harness works end to end (servers start, the replay is accepted, the engine cycles
succeed and send the requests they should) and that its table has a row with a ratio for every
scenario, so `make bench` does not rot between the runs that matter. Timing-dependent targets are not asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7")


@pytest.mark.slow
def test_quick_run_reports_a_ratio_for_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENLIST_")}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--tiny", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    unfinished = [r for r in rows if r["ratio"] is None]
    assert not unfinished, [(r["scenario"], r["note"]) for r in unfinished]
    for name in SCENARIOS:
        assert any(r["scenario"].split()[0] == name for r in rows), f"no row for {name}"
    lines = ("S1 SQLite", "S1 PostgreSQL", "S2 client", "S3", "S4 time", "S4 engine alone", "S4 memory", "S5")
    for line in ("scenario", *lines, "S6 2w"):
        assert line in done.stdout
    # Request counts are properties, not timings: the engine alone sends the Test connection
    # probe, then a filter query and a POST per user (30 at --tiny); an incremental cycle the
    # probe and one PATCH per changed user (5), whatever the directory's size.
    by_name = {r["scenario"]: r for r in rows}
    assert by_name["S4 engine alone"]["details"]["summary"]["requests"] == {"GET": 31, "POST": 30}
    s5 = by_name["S5"]["details"]
    assert s5["small"]["requests"] == s5["large"]["requests"] == {"GET": 1, "PATCH": 5}
    # The Graph reader's delta round: one users/delta and one groups/delta page at both sizes.
    s7 = by_name["S7 initial read"]["details"]
    assert s7["small"]["delta_requests"] == s7["large"]["delta_requests"] == 2
    left = [p for p in tmp_path.glob("enlist-bench-*") if "xdg-runtime" not in p.name]
    assert not left, "the scratch directory was left behind"
